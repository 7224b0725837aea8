package dev.capstan.benchmarks.plots;

import dev.capstan.benchmarks.plots.Results.Figure;
import dev.capstan.benchmarks.plots.Results.Ratio;
import dev.capstan.benchmarks.plots.Results.Section;
import dev.capstan.benchmarks.plots.Results.Spread;
import dev.capstan.benchmarks.plots.Results.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads benchmarks/RESULTS.md as its scripts write it.
 *
 * <p><b>Sections.</b> A section starts at a heading of level 1 or 2 whose text is followed by a
 * bullet list with a {@code date:} item (the run's header: date, JDK, machine, the command that
 * reproduces it); every other heading belongs to the section above it. The level-1 heading is the
 * file's title; its section is the data path on loopback ({@code benchmarks/run.sh}).
 *
 * <p><b>Figures.</b> A section's summary is its first table whose first column is {@code figure}
 * and that has a {@code Capstan} or a {@code median} column. Three shapes are read:
 * <ul>
 *   <li>one column per topology ({@code direct}, {@code HAProxy}, {@code nginx}, {@code Capstan}),
 *       ratio columns {@code Capstan/<peer>}, spreads as {@code spread <topology>} columns or one
 *       {@code spreads} cell ({@code H a–b; N c–d; C e–f}, by initial);</li>
 *   <li>{@code median} with {@code ratio} and {@code reference}: the reference is a bar when it
 *       states one number ({@code target 1000 ms}, {@code ztunnel 528 B}) or names another row of
 *       the same measure ({@code per-pod model});</li>
 *   <li>{@code median} with a {@code vs <baseline>} column: rows {@code <measure>, <scenario>} are
 *       grouped by measure, one bar per scenario, and a ratio compares its row with the nearest row
 *       above of the same measure that states none (the baseline).</li>
 * </ul>
 * Anything else — a section without such a table, a cell that is not a number, a ratio whose
 * operands are missing — is left out with a note saying what and why. No number is made up.
 */
public final class ResultsParser {

  /** The title of the section under the file's level-1 heading (written by benchmarks/run.sh). */
  static final String FIRST_SECTION_TITLE = "Data path on loopback";

  private static final Pattern HEADING = Pattern.compile("^(#{1,6})\\s+(.+?)\\s*#*\\s*$");
  private static final Pattern BULLET = Pattern.compile("^- ([^:`]{1,80}?):(?:\\s+(.*))?$");
  private static final Pattern SUB_KEY = Pattern.compile("^([A-Za-z][A-Za-z ]{0,30}): (.+)$");
  private static final Pattern ISSUE = Pattern.compile("\\s*\\(issue \\d+\\)\\s*$");
  private static final Pattern SEPARATOR = Pattern.compile(":?-{3,}:?");
  private static final Pattern NUMBER_IN_TEXT = Pattern.compile("(?<![\\w.])(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?(?![\\w.])");
  private static final Pattern SPREAD = Pattern.compile("^(\\S+?)\\s*[–-]\\s*(\\S+)$");
  private static final Pattern INITIAL_SPREAD = Pattern.compile("^(\\S+)\\s+(.+)$");
  private static final String CAPSTAN = "Capstan";

  private ResultsParser() {}

  /** Reads the whole file. */
  public static Results parse(String markdown) {
    List<Results.Section> sections = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    List<Block> current = null;
    for (Block block : blocks(markdown.lines().toList())) {
      if (block.level() >= 1 && block.level() <= 2 && metadata(block.lines()).containsKey("date")) {
        if (current != null) {
          sections.add(section(current));
        }
        current = new ArrayList<>(List.of(block));
      } else if (current != null) {
        current.add(block);
      } else if (block.level() > 0) {
        notes.add("heading '" + block.heading() + "' comes before any section with a date: not read");
      }
    }
    if (current != null) {
      sections.add(section(current));
    }
    if (sections.isEmpty()) {
      notes.add("no section found (a heading followed by a bullet list with a 'date:' item)");
    }
    return new Results(sections, notes);
  }

  /** A heading and the lines up to the next heading (level 0: the lines before the first heading). */
  private record Block(int level, String heading, List<String> lines) {}

  private static List<Block> blocks(List<String> lines) {
    List<Block> blocks = new ArrayList<>();
    int level = 0;
    String heading = "";
    List<String> body = new ArrayList<>();
    boolean fenced = false;
    for (String line : lines) {
      if (line.strip().startsWith("```")) {
        fenced = !fenced;
      }
      Matcher m = HEADING.matcher(line);
      if (!fenced && m.matches()) {
        blocks.add(new Block(level, heading, body));
        level = m.group(1).length();
        heading = m.group(2);
        body = new ArrayList<>();
      } else {
        body.add(line);
      }
    }
    blocks.add(new Block(level, heading, body));
    return blocks;
  }

  private static Section section(List<Block> blocks) {
    Block first = blocks.get(0);
    String title = first.level() == 1 ? FIRST_SECTION_TITLE : first.heading();
    List<String> notes = new ArrayList<>();
    List<Figure> figures = List.of();
    Optional<List<List<String>>> table = summaryTable(blocks);
    if (table.isEmpty()) {
      notes.add(title + ": no summary table (first column 'figure', and a 'Capstan' or 'median' column): nothing to plot");
    } else {
      figures = figures(title, table.get(), notes);
    }
    return new Section(title, slug(title), metadata(first.lines()), figures, notes);
  }

  /** The file name a title gets: lower case, words joined by '-', without "(issue N)". */
  static String slug(String title) {
    String s = ISSUE.matcher(title).replaceAll("").toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    return s.replaceAll("^-+|-+$", "");
  }

  /**
   * The header bullets of a section: its first bullet list, {@code - key: value} with indented
   * continuation lines; a value's {@code ; key: value} parts are keys of their own (e.g.
   * {@code JDK: …; machine: …}). Keys are lower case; the first occurrence wins.
   */
  static Map<String, String> metadata(List<String> lines) {
    Map<String, String> out = new LinkedHashMap<>();
    String key = null;
    StringBuilder value = new StringBuilder();
    boolean seenBullet = false;
    for (String line : lines) {
      Matcher m = BULLET.matcher(line);
      if (m.matches()) {
        put(out, key, value.toString());
        key = m.group(1).strip().toLowerCase(Locale.ROOT);
        value = new StringBuilder(m.group(2) == null ? "" : m.group(2).strip());
        seenBullet = true;
      } else if (key != null && !line.isBlank() && Character.isWhitespace(line.charAt(0))) {
        value.append(value.length() == 0 ? "" : "; ").append(line.strip());
      } else {
        put(out, key, value.toString());
        key = null;
        if (seenBullet && line.isBlank()) {
          break;
        }
      }
    }
    put(out, key, value.toString());
    return out;
  }

  private static void put(Map<String, String> out, String key, String value) {
    if (key == null) {
      return;
    }
    String current = key;
    StringBuilder text = new StringBuilder();
    for (String part : value.split("; ")) {
      Matcher m = SUB_KEY.matcher(part);
      if (m.matches() && text.length() > 0) {
        out.putIfAbsent(current, text.toString());
        current = m.group(1).strip().toLowerCase(Locale.ROOT);
        text = new StringBuilder(m.group(2).strip());
      } else {
        text.append(text.length() == 0 ? "" : "; ").append(part.strip());
      }
    }
    out.putIfAbsent(current, text.toString());
  }

  private static Optional<List<List<String>>> summaryTable(List<Block> blocks) {
    for (Block block : blocks) {
      for (List<List<String>> table : tables(block.lines())) {
        List<String> header = table.get(0);
        if (header.get(0).equalsIgnoreCase("figure") && (header.contains(CAPSTAN) || header.contains("median"))) {
          return Optional.of(table);
        }
      }
    }
    return Optional.empty();
  }

  /** Markdown tables (header, then rows; the separator line dropped). */
  static List<List<List<String>>> tables(List<String> lines) {
    List<List<List<String>>> tables = new ArrayList<>();
    List<List<String>> rows = new ArrayList<>();
    for (String line : lines) {
      if (line.strip().startsWith("|")) {
        rows.add(cells(line));
      } else {
        addTable(tables, rows);
        rows = new ArrayList<>();
      }
    }
    addTable(tables, rows);
    return tables;
  }

  private static void addTable(List<List<List<String>>> tables, List<List<String>> rows) {
    if (rows.size() >= 2 && rows.get(1).stream().allMatch(c -> SEPARATOR.matcher(c).matches())) {
      List<List<String>> table = new ArrayList<>();
      table.add(rows.get(0));
      table.addAll(rows.subList(2, rows.size()));
      tables.add(table);
    }
  }

  private static List<String> cells(String line) {
    String s = line.strip();
    s = s.substring(1, s.endsWith("|") && s.length() > 1 ? s.length() - 1 : s.length());
    List<String> cells = new ArrayList<>();
    for (String cell : s.split("\\|", -1)) {
      cells.add(cell.strip());
    }
    return cells;
  }

  private static List<Figure> figures(String title, List<List<String>> table, List<String> notes) {
    List<String> header = table.get(0);
    List<List<String>> rows = new ArrayList<>();
    for (List<String> row : table.subList(1, table.size())) {
      if (row.size() != header.size()) {
        notes.add(title + ": row '" + row.get(0) + "' has " + row.size() + " cells, the header " + header.size() + ": skipped");
      } else {
        rows.add(row);
      }
    }
    if (header.contains(CAPSTAN)) {
      return topologyColumns(title, header, rows, notes);
    }
    int median = header.indexOf("median");
    int reference = header.indexOf("reference");
    int versus = indexWhere(header, h -> h.startsWith("vs "));
    if (versus >= 0) {
      return scenarioRows(title, header, rows, median, versus, notes);
    }
    return referenceRows(title, header, rows, median, reference, notes);
  }

  /** One column per topology, {@code Capstan/<peer>} ratios, spreads per topology. */
  private static List<Figure> topologyColumns(String title, List<String> header, List<List<String>> rows, List<String> notes) {
    List<Figure> figures = new ArrayList<>();
    for (List<String> row : rows) {
      String name = row.get(0);
      Map<String, Decimal> medians = new LinkedHashMap<>();
      Map<String, Spread> spreads = new LinkedHashMap<>();
      List<Ratio> ratios = new ArrayList<>();
      String combinedSpreads = null;
      for (int i = 1; i < header.size(); i++) {
        String h = header.get(i);
        String cell = row.get(i);
        if (h.equalsIgnoreCase("spreads")) {
          combinedSpreads = cell;
        } else if (h.toLowerCase(Locale.ROOT).startsWith("spread ")) {
          spread(cell).ifPresent(s -> spreads.put(h.substring("spread ".length()).strip(), s));
        } else if (h.contains("/")) {
          String[] parts = h.split("/", 2);
          Optional<Decimal> ratio = Decimal.parseRatio(cell);
          if (ratio.isPresent()) {
            ratios.add(new Ratio(parts[0].strip(), parts[1].strip(), ratio.get()));
          } else if (!absent(cell)) {
            notes.add(title + ": '" + name + "', " + h + " '" + cell + "' is not a ratio: left out");
          }
        } else if (!absent(cell)) {
          Optional<Decimal> d = Decimal.parse(cell);
          if (d.isPresent()) {
            medians.put(h, d.get());
          } else {
            notes.add(title + ": '" + name + "', " + h + " '" + cell + "' is not a number: left out");
          }
        }
      }
      if (!medians.containsKey(CAPSTAN)) {
        notes.add(title + ": '" + name + "' has no Capstan number: skipped");
        continue;
      }
      if (combinedSpreads != null && !absent(combinedSpreads)) {
        bySpreadInitials(title, name, combinedSpreads, medians.keySet(), spreads, notes);
      }
      List<Value> values = new ArrayList<>();
      medians.forEach((label, d) -> values.add(new Value(label, d, Optional.ofNullable(spreads.get(label)), label.equals(CAPSTAN))));
      figures.add(figure(title, name, values, ratios, notes));
    }
    return figures;
  }

  /** {@code H 6961–9373; N 8092–10566; C 5959–11772}: each initial names the one topology that starts with it. */
  private static void bySpreadInitials(
      String title, String name, String cell, Set<String> labels, Map<String, Spread> spreads, List<String> notes) {
    for (String part : cell.split(";")) {
      Matcher m = INITIAL_SPREAD.matcher(part.strip());
      Optional<Spread> spread = m.matches() ? spread(m.group(2)) : Optional.empty();
      List<String> owners = m.matches()
          ? labels.stream().filter(l -> l.regionMatches(true, 0, m.group(1), 0, m.group(1).length())).toList()
          : List.of();
      if (spread.isEmpty() || owners.size() != 1) {
        notes.add(title + ": '" + name + "', spread '" + part.strip() + "' names no single topology: left out");
      } else {
        spreads.put(owners.get(0), spread.get());
      }
    }
  }

  /** {@code median}, {@code ratio} and {@code reference} columns: Capstan against a stated number or another row. */
  private static List<Figure> referenceRows(
      String title, List<String> header, List<List<String>> rows, int median, int reference, List<String> notes) {
    int spread = spreadColumn(header);
    int ratio = header.indexOf("ratio");
    Map<List<String>, Decimal> medians = new LinkedHashMap<>();
    for (List<String> row : rows) {
      Optional<Decimal> d = Decimal.parse(row.get(median));
      if (d.isEmpty()) {
        notes.add(title + ": '" + row.get(0) + "', median '" + row.get(median) + "' is not a number: skipped");
      } else {
        medians.put(row, d.get());
      }
    }
    List<Figure> figures = new ArrayList<>();
    medians.forEach((row, d) -> {
      String name = row.get(0);
      List<Value> values = new ArrayList<>();
      values.add(new Value(CAPSTAN, d, spread < 0 ? Optional.empty() : spread(row.get(spread)), true));
      String ref = reference < 0 ? "" : row.get(reference);
      Optional<Decimal> refValue = absent(ref) ? Optional.empty() : referenceValue(title, row, ref, medians, notes);
      refValue.ifPresent(r -> values.add(new Value(ref, r, Optional.empty(), false)));
      List<Ratio> ratios = new ArrayList<>();
      Optional<Decimal> stated = ratio < 0 ? Optional.empty() : Decimal.parseRatio(row.get(ratio));
      if (stated.isPresent() && refValue.isPresent()) {
        ratios.add(new Ratio(CAPSTAN, ref, stated.get()));
      } else if (stated.isPresent()) {
        notes.add(title + ": '" + name + "', ratio " + stated.get().text() + "x "
            + (!ref.isEmpty() && name.contains(ref) ? "is this row against itself ('" + ref + "')" : "has no reference value")
            + ": not drawn");
      }
      figures.add(figure(title, name, values, ratios, notes));
    });
    return figures;
  }

  /** The number a reference states, or the median of the one other row of the same measure it names. */
  private static Optional<Decimal> referenceValue(
      String title, List<String> row, String ref, Map<List<String>, Decimal> medians, List<String> notes) {
    List<String> numbers = NUMBER_IN_TEXT.matcher(ref).results().map(MatchResult::group).toList();
    if (numbers.size() == 1) {
      return Decimal.parse(numbers.get(0));
    }
    if (numbers.size() > 1) {
      notes.add(title + ": '" + row.get(0) + "', reference '" + ref + "' states several numbers: not drawn");
      return Optional.empty();
    }
    String measure = measureAndScenario(row.get(0))[0];
    List<List<String>> named = medians.keySet().stream()
        .filter(r -> r != row && r.get(0).contains(ref) && measureAndScenario(r.get(0))[0].equals(measure))
        .toList();
    if (named.size() == 1) {
      return Optional.of(medians.get(named.get(0)));
    }
    if (!row.get(0).contains(ref)) {
      notes.add(title + ": '" + row.get(0) + "', reference '" + ref + "' has no number and names no other row: not drawn");
    }
    return Optional.empty();
  }

  /** {@code median} and {@code vs <baseline>}: rows grouped by measure, one bar per scenario. */
  private static List<Figure> scenarioRows(
      String title, List<String> header, List<List<String>> rows, int median, int versus, List<String> notes) {
    int spread = spreadColumn(header);
    Map<String, List<Value>> values = new LinkedHashMap<>();
    Map<String, List<Ratio>> ratios = new LinkedHashMap<>();
    Map<String, List<String>> baselines = new LinkedHashMap<>();
    for (List<String> row : rows) {
      String name = row.get(0);
      Optional<Decimal> d = Decimal.parse(row.get(median));
      if (d.isEmpty()) {
        notes.add(title + ": '" + name + "', median '" + row.get(median) + "' is not a number: skipped");
        continue;
      }
      String[] split = measureAndScenario(name);
      String measure = split[0];
      String scenario = split[1].isEmpty() ? "median" : split[1];
      List<Value> group = values.computeIfAbsent(measure, m -> new ArrayList<>());
      List<String> groupBaselines = baselines.computeIfAbsent(measure, m -> new ArrayList<>());
      String cell = row.get(versus);
      Optional<Decimal> stated = Decimal.parseRatio(cell);
      if (stated.isPresent()) {
        if (groupBaselines.isEmpty()) {
          notes.add(title + ": '" + name + "', " + header.get(versus) + " " + cell + " has no row above without a ratio: not drawn");
        } else {
          ratios.computeIfAbsent(measure, m -> new ArrayList<>())
              .add(new Ratio(scenario, groupBaselines.get(groupBaselines.size() - 1), stated.get()));
        }
      } else if (absent(cell)) {
        groupBaselines.add(scenario);
      } else {
        notes.add(title + ": '" + name + "', " + header.get(versus) + " '" + cell + "' is not a ratio: left out");
      }
      group.add(new Value(scenario, d.get(), spread < 0 ? Optional.empty() : spread(row.get(spread)), true));
    }
    List<Figure> figures = new ArrayList<>();
    values.forEach((measure, group) -> {
      List<Ratio> groupRatios = ratios.getOrDefault(measure, List.of());
      List<Value> marked = group.stream()
          .map(v -> groupRatios.stream().anyMatch(r -> r.denominator().equals(v.label()))
              ? new Value(v.label(), v.median(), v.spread(), false) : v)
          .toList();
      figures.add(figure(title, measure, marked, groupRatios, notes));
    });
    return figures;
  }

  private static Figure figure(String title, String name, List<Value> values, List<Ratio> ratios, List<String> notes) {
    Figure figure = new Figure(name, values, ratios);
    for (Ratio r : ratios) {
      if (!r.consistentWith(figure)) {
        notes.add(title + ": '" + name + "', ratio " + r.reported().text() + "x (" + r.numerator() + " / " + r.denominator()
            + ") does not match its numbers: drawn as written");
      }
    }
    return figure;
  }

  /**
   * {@code quiet p99 ms, noisy flooding, quotas on} → {@code quiet p99 ms} and {@code noisy
   * flooding, quotas on}: split at the first comma outside parentheses.
   */
  static String[] measureAndScenario(String name) {
    int depth = 0;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth = Math.max(0, depth - 1);
      } else if (c == ',' && depth == 0) {
        return new String[] {name.substring(0, i).strip(), name.substring(i + 1).strip()};
      }
    }
    return new String[] {name.strip(), ""};
  }

  private static Optional<Spread> spread(String cell) {
    Matcher m = SPREAD.matcher(cell.strip());
    if (!m.matches()) {
      return Optional.empty();
    }
    Optional<Decimal> min = Decimal.parse(m.group(1));
    Optional<Decimal> max = Decimal.parse(m.group(2));
    return min.isPresent() && max.isPresent() ? Optional.of(new Spread(min.get(), max.get())) : Optional.empty();
  }

  private static int spreadColumn(List<String> header) {
    return indexWhere(header, h -> h.equals("spread") || h.equals("min–max") || h.equals("min-max"));
  }

  private static int indexWhere(List<String> header, Predicate<String> test) {
    for (int i = 0; i < header.size(); i++) {
      if (test.test(header.get(i))) {
        return i;
      }
    }
    return -1;
  }

  /** An empty cell or a dash: nothing was measured there (not a number left out). */
  private static boolean absent(String cell) {
    String c = cell.strip();
    return c.isEmpty() || c.equals("—") || c.equals("-") || c.equals("–");
  }
}
