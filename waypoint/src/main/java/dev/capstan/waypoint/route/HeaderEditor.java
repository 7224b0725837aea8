package dev.capstan.waypoint.route;

import dev.capstan.core.model.HttpRoute.HeaderChanges;
import java.util.Map;

/** Headers a filter may change; the protocol adapters wrap their own header types. */
public interface HeaderEditor {

  /** Replaces every value of {@code name} with {@code value}. */
  void set(String name, String value);

  /** Appends a value. */
  void add(String name, String value);

  /** Removes every value of {@code name}. */
  void remove(String name);

  /** Applies Gateway API header changes in their order: set, add, remove. */
  static void apply(HeaderChanges changes, HeaderEditor headers) {
    for (Map.Entry<String, String> e : changes.set().entrySet()) {
      headers.set(e.getKey(), e.getValue());
    }
    for (Map.Entry<String, String> e : changes.add().entrySet()) {
      headers.add(e.getKey(), e.getValue());
    }
    for (String name : changes.remove()) {
      headers.remove(name);
    }
  }
}
