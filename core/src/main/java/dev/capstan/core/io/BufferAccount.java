package dev.capstan.core.io;

/**
 * Where one spliced connection charges the bytes it holds: read from one side and not yet written
 * to the other. The node agent charges them to a tenant's buffer quota; {@link #UNLIMITED}
 * charges nothing.
 *
 * <p>A splice calls {@link #charge} on every read (on its event loop) and {@link #release} when
 * the write of those bytes completes or fails (on the written channel's event loop, which is the
 * same one). It reads only while {@link #mayRead} is true. When the account allows reading again
 * after saying no, it calls the splice's wake-up, from any thread; the splice re-checks on its
 * event loop. {@link #close} ends the account (the splice's channels are closed; bytes still
 * charged are released by their failing writes).
 */
public interface BufferAccount {

  /** Holds {@code bytes} more; returns whether reading may go on. */
  boolean charge(int bytes);

  /** {@code bytes} are no longer held (written, or dropped with a closed channel). */
  void release(int bytes);

  /** Whether reading may go on. */
  boolean mayRead();

  /** Registers the splice's wake-up, called when reading may resume (any thread, possibly spuriously). */
  void onWake(Runnable wake);

  /** The connection is done. */
  void close();

  /**
   * The two directions of one spliced connection: {@code first} charges what is read from the
   * splice's first channel, {@code second} what is read from its second.
   */
  record Pair(BufferAccount first, BufferAccount second) {
    /** No limit either way. */
    public static final Pair UNLIMITED = new Pair(BufferAccount.UNLIMITED, BufferAccount.UNLIMITED);
  }

  /** No limit and no accounting. */
  BufferAccount UNLIMITED = new BufferAccount() {
    @Override
    public boolean charge(int bytes) {
      return true;
    }

    @Override
    public void release(int bytes) {}

    @Override
    public boolean mayRead() {
      return true;
    }

    @Override
    public void onWake(Runnable wake) {}

    @Override
    public void close() {}
  };
}
