package dev.capstan.cli.dump;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capstan.cli.output.Table;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A config dump for people: the whole dump as one row per section with a short value; chosen
 * sections each in full as a table (a list of objects: one row per item; an object: one row per
 * key) or a line (a value).
 */
final class DumpTable {

  private static final int MAX_LISTED = 6;
  private static final int MAX_CELL = 100;

  private DumpTable() {}

  /** {@code sectionsAsked} 0: the overview; otherwise each section of {@code dump} in full. */
  static String render(JsonNode dump, int sectionsAsked) {
    if (sectionsAsked == 0) {
      Table t = new Table("SECTION", "VALUE");
      dump.properties().forEach(e -> t.row(e.getKey(), cell(e.getValue())));
      return t.render() + "(one section in full: --section <name>; everything: -o json or -o yaml)\n";
    }
    StringBuilder b = new StringBuilder();
    Iterator<Map.Entry<String, JsonNode>> fields = dump.properties().iterator();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> e = fields.next();
      b.append(section(e.getKey(), e.getValue()));
      if (fields.hasNext()) {
        b.append('\n');
      }
    }
    return b.toString();
  }

  private static String section(String name, JsonNode value) {
    if (value.isArray() && value.size() > 0 && allObjects(value)) {
      Set<String> columns = new LinkedHashSet<>();
      value.forEach(item -> item.fieldNames().forEachRemaining(columns::add));
      Table t = new Table(columns.stream().map(DumpTable::header).toArray(String[]::new));
      for (JsonNode item : value) {
        t.row(columns.stream().map(c -> item.has(c) ? cell(item.get(c)) : null).toArray());
      }
      return name + ":\n" + t.render();
    }
    if (value.isObject() && value.size() > 0) {
      Table t = new Table("KEY", "VALUE");
      value.properties().forEach(e -> t.row(e.getKey(), cell(e.getValue())));
      return name + ":\n" + t.render();
    }
    return name + ": " + cell(value) + "\n";
  }

  /** A short text for a value: itself, a list of up to a few values, {@code k=v} pairs, or a count. */
  static String cell(JsonNode v) {
    String text;
    if (v == null || v.isNull()) {
      text = "null";
    } else if (v.isValueNode()) {
      text = v.asText();
    } else if (v.isArray()) {
      if (v.size() == 0) {
        text = "[]";
      } else if (allValues(v)) {
        List<String> items = new ArrayList<>();
        v.forEach(i -> items.add(i.asText()));
        text = joined(items);
      } else {
        text = "[" + v.size() + (v.size() == 1 ? " item]" : " items]");
      }
    } else if (v.size() == 0) {
      text = "{}";
    } else if (allValues(v)) {
      List<String> pairs = new ArrayList<>();
      v.properties().forEach(e -> pairs.add(e.getKey() + "=" + e.getValue().asText()));
      text = joined(pairs);
    } else {
      List<String> keys = new ArrayList<>();
      v.fieldNames().forEachRemaining(keys::add);
      text = "{" + joined(keys) + "}";
    }
    text = text.replace('\n', ' ');
    return text.length() > MAX_CELL ? text.substring(0, MAX_CELL - 1) + "…" : text;
  }

  private static String joined(List<String> items) {
    if (items.size() <= MAX_LISTED) {
      return String.join(",", items);
    }
    return String.join(",", items.subList(0, MAX_LISTED)) + ",… (" + items.size() + ")";
  }

  private static boolean allObjects(JsonNode array) {
    for (JsonNode i : array) {
      if (!i.isObject()) {
        return false;
      }
    }
    return true;
  }

  private static boolean allValues(JsonNode container) {
    for (JsonNode i : container) {
      if (!i.isValueNode()) {
        return false;
      }
    }
    return true;
  }

  /** {@code notAfter} → {@code NOT_AFTER}. */
  private static String header(String key) {
    return key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT);
  }
}
