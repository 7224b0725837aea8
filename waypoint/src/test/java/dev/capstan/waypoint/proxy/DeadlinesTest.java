package dev.capstan.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Request timeouts queued per length on a real event loop. */
class DeadlinesTest {

  private static final long LENGTH = TimeUnit.MILLISECONDS.toNanos(50);
  private final EventLoop loop = new DefaultEventLoop();

  @AfterEach
  void tearDown() throws Exception {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  @Test
  void timeouts_fire_in_order_after_their_length_and_cancelled_ones_never() throws Exception {
    List<String> fired = new CopyOnWriteArrayList<>();
    List<Long> elapsed = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(3);
    long start = System.nanoTime();
    loop.submit(() -> {
      Deadlines d = Deadlines.on(loop, LENGTH);
      for (String name : List.of("a", "b", "c", "d")) {
        Deadlines.Timeout t = d.start(() -> {
          fired.add(name);
          elapsed.add(System.nanoTime() - start);
          done.countDown();
        });
        if (name.equals("b")) {
          t.cancel();
        }
      }
    }).sync();

    assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(100); // b would have fired by now
    assertThat(fired).containsExactly("a", "c", "d");
    assertThat(elapsed).allSatisfy(e -> assertThat(e).isGreaterThanOrEqualTo(LENGTH));
  }

  @Test
  void timeouts_started_later_wait_their_own_length() throws Exception {
    List<Long> late = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(2);
    loop.submit(() -> Deadlines.on(loop, LENGTH).start(done::countDown)).sync();
    Thread.sleep(30);
    long second = System.nanoTime();
    loop.submit(() -> Deadlines.on(loop, LENGTH).start(() -> {
      late.add(System.nanoTime() - second);
      done.countDown();
    })).sync();

    assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(late).singleElement().satisfies(e -> assertThat(e).isGreaterThanOrEqualTo(LENGTH));
  }

  @Test
  void cancelled_timeouts_leave_the_queue_as_new_ones_start() throws Exception {
    int held = loop.submit(() -> {
      Deadlines d = Deadlines.on(loop, TimeUnit.SECONDS.toNanos(30));
      for (int i = 0; i < 10_000; i++) {
        d.start(() -> { }).cancel(); // answered before its timeout, as nearly every request is
      }
      return d.held();
    }).get(5, TimeUnit.SECONDS);

    assertThat(held).isEqualTo(1);
  }

  @Test
  void a_failing_timeout_does_not_stop_the_ones_behind_it() throws Exception {
    CountDownLatch after = new CountDownLatch(1);
    loop.submit(() -> {
      Deadlines d = Deadlines.on(loop, LENGTH);
      d.start(() -> {
        throw new IllegalStateException("boom");
      });
      d.start(after::countDown);
    }).sync();

    assertThat(after.await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void each_length_has_its_own_queue() throws Exception {
    List<String> fired = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(2);
    loop.submit(() -> {
      Deadlines.on(loop, TimeUnit.MILLISECONDS.toNanos(300)).start(() -> {
        fired.add("long");
        done.countDown();
      });
      Deadlines.on(loop, LENGTH).start(() -> {
        fired.add("short");
        done.countDown();
      });
    }).sync();

    assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(fired).containsExactly("short", "long");
  }
}
