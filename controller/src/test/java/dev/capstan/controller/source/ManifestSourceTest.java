package dev.capstan.controller.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestSourceTest {

  private static final Duration POLL = Duration.ofMillis(20);

  @TempDir
  Path dir;

  private final List<MeshSnapshot> emitted = new CopyOnWriteArrayList<>();
  private ManifestSource source;

  @AfterEach
  void close() {
    if (source != null) {
      source.close();
    }
  }

  /** Waits, polling, until the condition holds; fails after 10 s. */
  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  /** Replaces the file atomically, as editors and ConfigMap volumes do. */
  private void write(String name, String content) throws IOException {
    Path tmp = Files.createTempFile(dir, ".tmp", ".part");
    Files.writeString(tmp, content);
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static List<String> names(MeshSnapshot snapshot) {
    return snapshot.workloads().stream().map(Workload::name).toList();
  }

  private static String pod(String name, String ip) {
    return ManifestDirectoryTest.FRONTEND.replace("frontend-1", name).replace("127.0.1.10", ip);
  }

  @Test
  void first_snapshot_is_emitted_once_loaded_and_pods_are_known() throws Exception {
    write("mesh.yaml", ManifestDirectoryTest.SHOP + "---\n" + pod("web-1", "127.0.1.1"));
    source = new ManifestSource(dir, POLL);

    source.start(emitted::add);

    await("first snapshot", () -> !emitted.isEmpty());
    assertThat(names(emitted.get(0))).containsExactly("web-1");
    assertThat(source.current()).contains(emitted.get(0));
    assertThat(source.pod("shop", "web-1"))
        .contains(new PodInfo(ManifestDirectory.derivedUid("Pod", "shop", "web-1"), "node-1"));
    assertThat(source.pod("shop", "absent")).isEmpty();
  }

  @Test
  void change_is_picked_up_and_emitted() throws Exception {
    write("mesh.yaml", ManifestDirectoryTest.SHOP + "---\n" + pod("web-1", "127.0.1.1"));
    source = new ManifestSource(dir, POLL);
    source.start(emitted::add);
    await("first snapshot", () -> emitted.size() == 1);

    write("more.yaml", pod("web-2", "127.0.1.2"));

    await("second snapshot", () -> emitted.size() == 2);
    assertThat(names(emitted.get(1))).containsExactly("web-1", "web-2");
    assertThat(emitted.get(1).version()).isNotEqualTo(emitted.get(0).version());
  }

  @Test
  void broken_edit_keeps_the_last_valid_snapshot_until_fixed() throws Exception {
    write("mesh.yaml", ManifestDirectoryTest.SHOP + "---\n" + pod("web-1", "127.0.1.1"));
    source = new ManifestSource(dir, POLL);
    source.start(emitted::add);
    await("first snapshot", () -> emitted.size() == 1);
    MeshSnapshot good = emitted.get(0);

    write("mesh.yaml", ManifestDirectoryTest.SHOP + "---\n" + pod("web-1", "127.0.1.1").replace("  nodeName: node-1\n", ""));

    await("the broken edit to be rejected", () -> !source.problems().isEmpty());
    assertThat(source.problems()).extracting(ManifestDirectory.Problem::toString)
        .containsExactly(dir.resolve("mesh.yaml") + ":15: Pod web-1: spec.nodeName is required");
    assertThat(source.current()).contains(good);
    assertThat(emitted).containsExactly(good);

    write("mesh.yaml", ManifestDirectoryTest.SHOP + "---\n" + pod("web-1", "127.0.1.1").replace("node-1", "node-2"));

    await("the fixed edit", () -> emitted.size() == 2);
    assertThat(emitted.get(1).workloads().get(0).node()).isEqualTo("node-2");
    assertThat(source.problems()).isEmpty();
  }

  @Test
  void rewrite_with_the_same_content_emits_nothing_new() throws Exception {
    String content = ManifestDirectoryTest.SHOP + "---\n" + pod("web-1", "127.0.1.1");
    write("mesh.yaml", content);
    source = new ManifestSource(dir, POLL);
    source.start(emitted::add);
    await("first snapshot", () -> emitted.size() == 1);

    write("mesh.yaml", "# same mesh, other bytes\n" + content);
    write("other.yaml", pod("web-2", "127.0.1.2"));

    await("the next change", () -> emitted.size() == 2);
    assertThat(names(emitted.get(1))).containsExactly("web-1", "web-2");
  }

  @Test
  void invalid_directory_at_start_emits_nothing_until_fixed() throws Exception {
    write("mesh.yaml", pod("web-1", "127.0.1.1"));
    source = new ManifestSource(dir, POLL);
    source.start(emitted::add);

    await("the rejection", () -> !source.problems().isEmpty());
    assertThat(source.current()).isEmpty();

    write("ns.yaml", ManifestDirectoryTest.SHOP);

    await("first snapshot", () -> emitted.size() == 1);
    assertThat(names(emitted.get(0))).containsExactly("web-1");
  }
}
