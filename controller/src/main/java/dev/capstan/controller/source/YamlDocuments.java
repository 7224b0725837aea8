package dev.capstan.controller.source;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Splits a YAML stream into its documents at {@code ---} and {@code ...} marker lines, keeping for
 * each document the file line it starts on, so that errors inside it can name the file's line.
 */
final class YamlDocuments {

  private static final Pattern START = Pattern.compile("^---(\\s.*)?$");
  private static final Pattern END = Pattern.compile("^\\.\\.\\.\\s*$");

  /**
   * One document.
   *
   * @param firstLine the file line (1-based) of the document's first line
   * @param text the document's lines; line {@code n} of it is line {@code firstLine + n - 1} of the file
   */
  record Document(int firstLine, String text) {

    /** The file line of a 1-based line of this document (the end of the stream counts as its last line). */
    int fileLine(int documentLine) {
      int lines = Math.max(1, (int) text.lines().count());
      return firstLine + Math.min(Math.max(documentLine, 1), lines) - 1;
    }

    /** Whether the document holds only blank lines and comments. */
    boolean isBlank() {
      return text.lines().map(String::strip).allMatch(l -> l.isEmpty() || l.startsWith("#"));
    }
  }

  private YamlDocuments() {}

  static List<Document> split(String text) {
    String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
    List<Document> documents = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int firstLine = 1;
    int lineNumber = 0;
    String[] lines = body.split("\r?\n", -1);
    int count = body.endsWith("\n") ? lines.length - 1 : lines.length;
    for (int i = 0; i < count; i++) {
      String line = lines[i];
      lineNumber++;
      if (START.matcher(line).matches()) {
        documents.add(new Document(firstLine, current.toString()));
        current.setLength(0);
        firstLine = lineNumber;
        current.append("   ").append(line.substring(3)).append('\n');
      } else if (END.matcher(line).matches()) {
        documents.add(new Document(firstLine, current.toString()));
        current.setLength(0);
        firstLine = lineNumber + 1;
      } else {
        current.append(line).append('\n');
      }
    }
    documents.add(new Document(firstLine, current.toString()));
    return documents.stream().filter(d -> !d.isBlank()).toList();
  }
}
