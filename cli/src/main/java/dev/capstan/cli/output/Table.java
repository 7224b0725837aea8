package dev.capstan.cli.output;

import java.util.ArrayList;
import java.util.List;

/**
 * Columns aligned with two spaces between them, headers in capitals, as {@code kubectl get} and
 * {@code linkerd viz stat} print them. A {@code null} cell prints as {@code -}.
 */
public final class Table {

  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  public Table(String... headers) {
    this.headers = List.of(headers);
  }

  /** Adds a row; cells are printed with {@code toString()}, missing trailing cells as {@code -}. */
  public Table row(Object... cells) {
    if (cells.length > headers.size()) {
      throw new IllegalArgumentException("a row of " + cells.length + " cells in a table of " + headers.size() + " columns");
    }
    List<String> row = new ArrayList<>();
    for (int i = 0; i < headers.size(); i++) {
      Object cell = i < cells.length ? cells[i] : null;
      row.add(cell == null ? "-" : cell.toString());
    }
    rows.add(row);
    return this;
  }

  public int size() {
    return rows.size();
  }

  /** The table, one line per row after the header line, each ending with a newline. */
  public String render() {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      for (List<String> row : rows) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    StringBuilder b = new StringBuilder();
    line(b, headers, widths);
    rows.forEach(r -> line(b, r, widths));
    return b.toString();
  }

  private static void line(StringBuilder b, List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      line.append(cells.get(i));
      if (i < cells.size() - 1) {
        line.append(" ".repeat(widths[i] - cells.get(i).length() + 2));
      }
    }
    b.append(line.toString().stripTrailing()).append('\n');
  }
}
