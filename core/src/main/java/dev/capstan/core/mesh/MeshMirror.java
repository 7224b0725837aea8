package dev.capstan.core.mesh;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local copy of some of the controller's mesh maps, kept through one Hazelcast client: what every
 * reader of the maps (node agents, waypoints) shares. The reader says which maps ({@link Table}s)
 * it wants and builds its own view from them in {@link Owner#rebuild}.
 *
 * <p>Every change arrives as a map event and is applied on one background thread; events that
 * arrive together are applied together and then the owner rebuilds once. On (re)connect the
 * mirror re-reads the maps whole, but only once the controller has published a version: a
 * controller that restarts with empty maps does not wipe the copy, which stays last-known-good
 * while no member is reachable. {@link #ready()} turns true after the first full load.
 *
 * <p>Hazelcast delivers events at most once (a listener registering on a member that is just
 * joining, or a full event queue, can lose one), so a periodic check compares the published
 * version and entry counts with the copy's and re-reads the maps when the same published version
 * still differs one check later. Counts cannot reveal a lost update of an entry, so every {@value
 * #FULL_RELOAD_EVERY_CHECKS}th check re-reads the maps anyway: a lost update lives at most that
 * long. The owner's callbacks run on the mirror's thread, never on Hazelcast's or the data path's.
 */
public final class MeshMirror implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MeshMirror.class);

  /** Every this many checks the maps are re-read whatever the counts say. */
  public static final int FULL_RELOAD_EVERY_CHECKS = 60;

  /**
   * One mirrored map: its entries by a key parsed once per event, copied on write once handed out
   * ({@link #share()}), so a view built from it never changes under its reader. Read and written
   * on the mirror's thread only (in {@link Owner} callbacks).
   *
   * @param <K> the key as the reader indexes it
   * @param <V> the map's value type
   */
  public static final class Table<K, V> {
    private final String map;
    private final Function<String, K> keyOf;
    private final ToIntFunction<MeshVersion.Counts> published;
    private final UnaryOperator<V> admit;
    private Map<K, V> entries = new HashMap<>();
    private boolean shared;

    private Table(String map, Function<String, K> keyOf, ToIntFunction<MeshVersion.Counts> published, UnaryOperator<V> admit) {
      this.map = Objects.requireNonNull(map, "map");
      this.keyOf = Objects.requireNonNull(keyOf, "keyOf");
      this.published = Objects.requireNonNull(published, "published");
      this.admit = Objects.requireNonNull(admit, "admit");
    }

    /**
     * A table of {@code map}.
     *
     * @param keyOf the key of a map key; {@code null} skips the entry (log why in it)
     * @param published how many entries the published version says the map holds
     * @param admit what is kept of a value (e.g. an interned copy)
     */
    public static <K, V> Table<K, V> of(String map, Function<String, K> keyOf, ToIntFunction<MeshVersion.Counts> published,
        UnaryOperator<V> admit) {
      return new Table<>(map, keyOf, published, admit);
    }

    /** A table keyed by the map's own keys, values kept as they are. */
    public static <V> Table<String, V> of(String map, ToIntFunction<MeshVersion.Counts> published) {
      return new Table<>(map, k -> k, published, v -> v);
    }

    /** The map's name. */
    public String map() {
      return map;
    }

    /** The entries, to read. */
    public Map<K, V> read() {
      return entries;
    }

    /** The entries, to change (a copy first if they were handed out). */
    public Map<K, V> write() {
      if (shared) {
        entries = new HashMap<>(entries);
        shared = false;
      }
      return entries;
    }

    /** The entries, handed to a view: the next write copies them first. */
    public Map<K, V> share() {
      shared = true;
      return entries;
    }

    private void replace(Map<K, V> next) {
      entries = next;
      shared = false;
    }

    private void put(String key, V value) {
      K k = keyOf.apply(key);
      if (k != null) {
        write().put(k, admit.apply(value));
      }
    }

    private void remove(String key) {
      K k = keyOf.apply(key);
      if (k != null) {
        write().remove(k);
      }
    }

    private void load(IMap<String, V> source) {
      Map<K, V> copy = new HashMap<>();
      source.entrySet().forEach(e -> {
        K k = keyOf.apply(e.getKey());
        if (k != null) {
          copy.put(k, admit.apply(e.getValue()));
        }
      });
      replace(copy);
    }
  }

  /** What the reader does with the tables; called on the mirror's thread. */
  public interface Owner {
    /** Before a full load replaces every table (e.g. to start new interners). */
    default void beforeFullLoad() {}

    /** After events or a full load: build the reader's view of the tables at this version. */
    void rebuild(MeshVersion version);
  }

  private final String threadName;
  private final List<Table<?, ?>> tables;
  private final Owner owner;
  private final ExecutorService thread;
  private final ScheduledExecutorService checker;
  private final CountDownLatch firstLoad = new CountDownLatch(1);
  /** Hazelcast may report the connection before its constructor has returned the client. */
  private final CountDownLatch created = new CountDownLatch(1);
  private final HazelcastInstance client;
  // Owned by the mirror thread.
  private volatile MeshVersion version;
  private boolean rebuildQueued;
  private boolean listening;
  private boolean awaitingFullLoad = true;
  /** The published version that differed from the copy at the last check, if any. */
  private MeshVersion differing;
  private int checks;

  /**
   * Starts connecting in the background ({@link MeshMaps#clientConfig}); the copy is empty and not
   * ready until the first full load.
   *
   * @param instanceName the Hazelcast client's instance name
   * @param clusterName the controller's Hazelcast cluster name
   * @param members controller members, {@code host:port}
   * @param tables the maps to mirror
   * @param owner builds the reader's view
   * @param checkEvery how often the copy is checked against the published version
   * @param threadName the mirror thread's name ({@code -check} is the checker's)
   */
  public MeshMirror(String instanceName, String clusterName, List<String> members, List<Table<?, ?>> tables, Owner owner,
      Duration checkEvery, String threadName) {
    this.threadName = threadName;
    this.tables = List.copyOf(tables);
    this.owner = Objects.requireNonNull(owner, "owner");
    this.thread = Executors.newSingleThreadExecutor(r -> daemon(r, threadName));
    this.checker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, threadName + "-check"));
    this.client = HazelcastClient.newHazelcastClient(MeshMaps.clientConfig(instanceName, clusterName, members, this::lifecycle));
    created.countDown();
    checker.scheduleWithFixedDelay(() -> thread.execute(this::check),
        checkEvery.toMillis(), checkEvery.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Whether the first full load from the controller is done. */
  public boolean ready() {
    return firstLoad.getCount() == 0;
  }

  /** Waits for the first full load. */
  public boolean awaitReady(long timeout, TimeUnit unit) throws InterruptedException {
    return firstLoad.await(timeout, unit);
  }

  private volatile boolean closed;

  /** The version of the last event or load applied, or {@code null} before the first load. */
  public MeshVersion version() {
    return version;
  }

  private void lifecycle(LifecycleEvent event) {
    if (closed) {
      return; // our own shutdown: the client disconnects, nothing is lost, the thread is gone
    }
    switch (event.getState()) {
      case CLIENT_CONNECTED, CLIENT_CHANGED_CLUSTER -> {
        LOG.info("{}: connected to the controller ({}): re-reading the mesh", threadName, event.getState());
        thread.execute(this::connected);
      }
      case CLIENT_DISCONNECTED -> {
        MeshVersion v = version;
        LOG.warn("{}: lost the controller: serving the last known mesh version {} until it is back", threadName,
            v == null ? "none" : v.label());
        // Removals made while we were away fire no event: the next published version must come
        // with a full read, even if its events reach us before CLIENT_CONNECTED does.
        thread.execute(() -> awaitingFullLoad = true);
      }
      default -> { }
    }
  }

  /** On the mirror thread: listen (once; the client re-registers after reconnects), then load. */
  private void connected() {
    try {
      if (!created.await(30, TimeUnit.SECONDS)) {
        return;
      }
      if (!listening) {
        tables.forEach(this::listen);
        IMap<String, MeshVersion> meta = client.getMap(MeshMaps.META);
        meta.addEntryListener((EntryAddedListener<String, MeshVersion>) e -> thread.execute(() -> versioned(e.getValue())), true);
        meta.addEntryListener((EntryUpdatedListener<String, MeshVersion>) e -> thread.execute(() -> versioned(e.getValue())), true);
        listening = true;
      }
      awaitingFullLoad = true;
      MeshVersion published = client.<String, MeshVersion>getMap(MeshMaps.META).get(MeshMaps.VERSION_KEY);
      if (published != null) {
        fullLoad(published);
      } else {
        LOG.info("{}: the controller has published no mesh yet: keeping version {}", threadName,
            version == null ? "none" : version.label());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // Offline again before we got through: the next CLIENT_CONNECTED retries.
      LOG.warn("{}: reading the mesh from the controller failed, will retry on reconnect: {}", threadName, e.toString());
    }
  }

  private <K, V> void listen(Table<K, V> table) {
    IMap<String, V> map = client.getMap(table.map);
    map.addEntryListener((EntryAddedListener<String, V>) e -> applyLater(() -> table.put(e.getKey(), e.getValue())), true);
    map.addEntryListener((EntryUpdatedListener<String, V>) e -> applyLater(() -> table.put(e.getKey(), e.getValue())), true);
    map.addEntryListener((EntryRemovedListener<String, V>) e -> applyLater(() -> table.remove(e.getKey())), true);
  }

  private void applyLater(Runnable change) {
    thread.execute(() -> {
      change.run();
      queueRebuild();
    });
  }

  private void versioned(MeshVersion v) {
    if (awaitingFullLoad) {
      fullLoad(v);
      return;
    }
    version = v;
    queueRebuild();
  }

  /** Replaces the tables with the maps' content. Events queued behind this task are newer. */
  private void fullLoad(MeshVersion published) {
    owner.beforeFullLoad();
    StringJoiner sizes = new StringJoiner(", ");
    for (Table<?, ?> table : tables) {
      load(table);
      sizes.add(table.map + "=" + table.read().size());
    }
    version = published;
    awaitingFullLoad = false;
    // Ready before the view is built: whoever sees the loaded view sees a ready mirror.
    firstLoad.countDown();
    rebuild();
    LOG.info("{}: mesh version {} loaded from the controller ({})", threadName, published.label(), sizes);
  }

  private <K, V> void load(Table<K, V> table) {
    table.load(client.getMap(table.map));
  }

  /**
   * On the mirror thread: the anti-entropy check against the published version. A difference is
   * acted on only when the same published version still differs one check later: under a steady
   * stream of changes the copy is always a little behind, and that is not a lost event.
   */
  private void check() {
    if (!listening || !client.getLifecycleService().isRunning()) {
      return;
    }
    try {
      MeshVersion published = client.<String, MeshVersion>getMap(MeshMaps.META).get(MeshMaps.VERSION_KEY);
      if (published == null) {
        return;
      }
      if (++checks % FULL_RELOAD_EVERY_CHECKS == 0) {
        fullLoad(published);
        differing = null;
        return;
      }
      boolean differs = version == null || !published.equals(version)
          || tables.stream().anyMatch(t -> t.published.applyAsInt(published.entries()) != t.read().size());
      if (differs && (version == null || published.equals(differing))) {
        StringJoiner held = new StringJoiner(", ");
        tables.forEach(t -> held.add(t.map + "=" + t.read().size()));
        LOG.warn("{}: mesh copy {} differs from the published {} (held: {}): an event was missed, re-reading the maps",
            threadName, version == null ? "none" : version.label(), published, held);
        fullLoad(published);
        differing = null;
        return;
      }
      differing = differs ? published : null;
    } catch (RuntimeException e) {
      LOG.debug("{}: mesh check skipped: {}", threadName, e.toString());
    }
  }

  private void queueRebuild() {
    if (!rebuildQueued) {
      rebuildQueued = true;
      thread.execute(this::rebuild);
    }
  }

  private void rebuild() {
    rebuildQueued = false;
    MeshVersion v = version;
    if (v == null) {
      return;
    }
    try {
      owner.rebuild(v);
    } catch (RuntimeException e) {
      LOG.error("{}: building the mesh view of version {} failed: {}", threadName, v.label(), e.toString(), e);
    }
  }

  @Override
  public void close() {
    closed = true;
    checker.shutdownNow();
    thread.shutdownNow();
    client.shutdown();
  }
}
