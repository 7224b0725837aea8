package dev.capstan.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * This JVM's memory as the benchmark reads it: heap used after full collections (memory pools),
 * live threads, native memory committed outside the heap (Native Memory Tracking, if the JVM runs
 * with {@code -XX:NativeMemoryTracking=summary}), and the class histogram of live objects
 * ({@code GC.class_histogram}), all through the platform MBeans.
 */
final class Memory {

  /** One reading. {@code nativeBytes} and {@code threadBytes} are -1 without NMT. */
  record Reading(long heapUsed, int threads, long nativeBytes, long threadBytes, Map<String, long[]> histogram) {

    /** Per-class {instances, bytes} of {@code this} minus {@code before}. */
    Map<String, long[]> histogramMinus(Reading before) {
      Map<String, long[]> diff = new HashMap<>();
      histogram.forEach((k, v) -> diff.put(k, new long[] {v[0], v[1]}));
      before.histogram.forEach((k, v) -> {
        long[] d = diff.computeIfAbsent(k, x -> new long[2]);
        d[0] -= v[0];
        d[1] -= v[1];
      });
      return diff;
    }
  }

  private static final Pattern HISTOGRAM_LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
  private static final Pattern NMT_TOTAL = Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB");
  private static final Pattern NMT_HEAP = Pattern.compile("Java Heap \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");
  private static final Pattern NMT_THREAD = Pattern.compile("Thread \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

  private Memory() {}

  /**
   * Waits until the live heap is steady (two readings 2 s apart agree within 256 KiB, for at most
   * a minute): agents may still be working through queued events of a load or change, whose
   * objects are live but transient. Then reads everything.
   */
  static Reading read(boolean withHistogram) throws InterruptedException {
    long used = settledHeap();
    for (int i = 0; i < 30; i++) {
      Thread.sleep(2_000);
      long again = settledHeap();
      boolean steady = Math.abs(again - used) < 256 * 1024;
      used = again;
      if (steady) {
        break;
      }
    }
    String nmt = command("vmNativeMemory", "summary");
    long nativeBytes = -1;
    long threadBytes = -1;
    Matcher total = NMT_TOTAL.matcher(nmt);
    Matcher heap = NMT_HEAP.matcher(nmt);
    Matcher thread = NMT_THREAD.matcher(nmt);
    if (total.find() && heap.find() && thread.find()) {
      nativeBytes = (Long.parseLong(total.group(2)) - Long.parseLong(heap.group(2))) * 1024;
      threadBytes = Long.parseLong(thread.group(2)) * 1024;
    }
    Map<String, long[]> histogram = new HashMap<>();
    if (withHistogram) {
      for (String line : command("gcClassHistogram").split("\n")) {
        Matcher m = HISTOGRAM_LINE.matcher(line);
        if (m.find()) {
          histogram.merge(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))},
              (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        }
      }
    }
    return new Reading(used, ManagementFactory.getThreadMXBean().getThreadCount(), nativeBytes, threadBytes, histogram);
  }

  /**
   * Live heap after a full GC: the pools' usage as the collector left it (their collection
   * usage), so what other threads allocate right after the collection does not count. Repeated
   * until two collections in a row agree within 64 KiB (at most 8).
   */
  static long settledHeap() throws InterruptedException {
    long previous = Long.MAX_VALUE;
    for (int i = 0; i < 8; i++) {
      System.gc();
      long used = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
          used += pool.getCollectionUsage().getUsed();
        }
      }
      if (Math.abs(previous - used) < 64 * 1024) {
        return used;
      }
      previous = used;
      Thread.sleep(100);
    }
    return previous;
  }

  private static String command(String operation, String... arguments) {
    try {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      Object out = server.invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"), operation,
          new Object[] {arguments}, new String[] {String[].class.getName()});
      return String.valueOf(out);
    } catch (JMException e) {
      return "";
    }
  }
}
