package dev.capstan.benchmarks.plots;

import dev.capstan.benchmarks.plots.Results.Section;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Plots <RESULTS.md> <output directory>}: one SVG per section of the results file, named
 * after the section ({@code data-path-on-loopback.svg}, {@code waypoint.svg}, …). Logs one line per
 * section and one per item left out. Depends on the JDK alone, so benchmarks/plots.sh can compile
 * and run it without the rest of the build.
 */
public final class Plots {

  private static final System.Logger LOG = System.getLogger(Plots.class.getName());

  private Plots() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: Plots <RESULTS.md> <output directory>");
      System.exit(2);
    }
    Path results = Path.of(args[0]);
    if (!Files.isRegularFile(results)) {
      System.err.println("Plots: " + results + " is not a file");
      System.exit(2);
    }
    List<Path> written = write(Files.readString(results, StandardCharsets.UTF_8), Path.of(args[1]));
    if (written.isEmpty()) {
      System.exit(1);
    }
  }

  /** Parses the file's text and writes one SVG per section with figures; returns the files written. */
  public static List<Path> write(String markdown, Path outDir) throws IOException {
    Results results = ResultsParser.parse(markdown);
    results.notes().forEach(n -> LOG.log(Level.WARNING, "skipped: " + n));
    Files.createDirectories(outDir);
    List<Path> written = new ArrayList<>();
    for (Section section : results.sections()) {
      section.notes().forEach(n -> LOG.log(Level.WARNING, "skipped: " + n));
      if (section.figures().isEmpty()) {
        LOG.log(Level.WARNING, "section '" + section.title() + "' has no figures: no plot");
        continue;
      }
      Path file = outDir.resolve(section.slug() + ".svg");
      Files.writeString(file, BarChart.render(section), StandardCharsets.UTF_8);
      written.add(file);
      LOG.log(Level.INFO, "'" + section.title() + "': " + section.figures().size() + " figures, " + section.valueCount()
          + " bars, " + section.ratioCount() + " ratios -> " + file);
    }
    return written;
  }
}
