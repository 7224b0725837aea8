package dev.capstan.controller.source;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The file line of every field and list item of one YAML document, by path ({@code
 * spec.ports[0].targetPort}), so that a check on a typed object can point at its line.
 */
final class LineIndex {

  private final Map<String, Integer> lines;
  private final int firstLine;

  private LineIndex(Map<String, Integer> lines, int firstLine) {
    this.lines = lines;
    this.firstLine = firstLine;
  }

  /** Indexes a document that is known to parse. */
  static LineIndex of(ObjectMapper yaml, YamlDocuments.Document document) throws IOException {
    Map<String, Integer> lines = new HashMap<>();
    Deque<Frame> stack = new ArrayDeque<>();
    String field = null;
    try (JsonParser parser = yaml.createParser(document.text())) {
      JsonToken token;
      while ((token = parser.nextToken()) != null) {
        int line = document.fileLine(parser.currentTokenLocation().getLineNr());
        switch (token) {
          case FIELD_NAME -> {
            field = parser.currentName();
            lines.putIfAbsent(child(stack.isEmpty() ? "" : stack.peek().path, field), line);
          }
          case START_OBJECT, START_ARRAY -> {
            String path = valuePath(stack, field);
            lines.putIfAbsent(path, line);
            stack.push(new Frame(path, token == JsonToken.START_ARRAY));
            field = null;
          }
          case END_OBJECT, END_ARRAY -> stack.pop();
          default -> lines.putIfAbsent(valuePath(stack, field), line);
        }
      }
    }
    return new LineIndex(lines, document.firstLine());
  }

  /** The line of the path, else of its closest ancestor present, else of the document's start. */
  int lineOf(String path) {
    String p = path;
    while (true) {
      Integer line = lines.get(p);
      if (line != null) {
        return line;
      }
      if (p.isEmpty()) {
        return firstLine;
      }
      p = parent(p);
    }
  }

  private static String parent(String path) {
    int cut = path.endsWith("]") ? path.lastIndexOf('[') : path.lastIndexOf('.');
    return cut <= 0 ? "" : path.substring(0, cut);
  }

  private static String valuePath(Deque<Frame> stack, String field) {
    if (stack.isEmpty()) {
      return "";
    }
    Frame top = stack.peek();
    return top.array ? top.path + "[" + top.nextIndex++ + "]" : child(top.path, field);
  }

  private static String child(String parent, String field) {
    return parent.isEmpty() ? field : parent + "." + field;
  }

  private static final class Frame {
    final String path;
    final boolean array;
    int nextIndex;

    Frame(String path, boolean array) {
      this.path = path;
      this.array = array;
    }
  }
}
