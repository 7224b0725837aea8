package dev.capstan.chart;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code helm template} output read strictly into fabric8's typed model: every document must be a
 * kind the model knows (never a generic resource), of the right field types, with no field the
 * model does not know. fabric8's classes keep unknown fields in {@code additionalProperties}
 * (a {@code @JsonAnySetter}, which {@code FAIL_ON_UNKNOWN_PROPERTIES} does not reach), so every
 * object of the parsed tree is checked for them too.
 */
final class Rendered {

  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization(
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES), true);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  final List<HasMetadata> objects;

  private Rendered(List<HasMetadata> objects) {
    this.objects = List.copyOf(objects);
  }

  /** Parses every document; throws naming the document and field of the first problem. */
  static Rendered parse(String yaml) {
    List<HasMetadata> out = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (String doc : yaml.split("(?m)^---\\s*$")) {
      JsonNode tree;
      try {
        tree = YAML.readTree(doc);
      } catch (Exception e) {
        throw new AssertionError("a rendered document is not YAML: " + e.getMessage() + "\n" + doc, e);
      }
      if (tree == null || tree.isNull() || tree.isMissingNode()) {
        continue;
      }
      String name = tree.path("kind").asText() + " " + tree.path("metadata").path("name").asText();
      HasMetadata object;
      try {
        object = SERIALIZATION.unmarshal(doc, HasMetadata.class);
      } catch (RuntimeException e) {
        problems.add(name + ": " + e.getMessage());
        continue;
      }
      if (object instanceof GenericKubernetesResource) {
        problems.add(name + ": " + tree.path("apiVersion").asText() + " " + tree.path("kind").asText()
            + " is not a kind of fabric8's typed model (misspelt kind or apiVersion?)");
        continue;
      }
      List<String> unknown = new ArrayList<>();
      unknownFields(object, name, unknown, new IdentityHashMap<>());
      problems.addAll(unknown);
      out.add(object);
    }
    if (!problems.isEmpty()) {
      throw new AssertionError("rendered objects do not fit the typed model:\n  " + String.join("\n  ", problems));
    }
    return new Rendered(out);
  }

  /** Collects "path: unknown field(s) [..]" for every model object that kept fields it does not know. */
  static void unknownFields(Object value, String path, List<String> out, Map<Object, Boolean> seen) {
    if (value == null || seen.put(value, Boolean.TRUE) != null) {
      return;
    }
    if (value instanceof Collection<?> c) {
      int i = 0;
      for (Object item : c) {
        unknownFields(item, path + "[" + i++ + "]", out, seen);
      }
      return;
    }
    if (value instanceof Map<?, ?> m) {
      m.forEach((k, v) -> unknownFields(v, path + "." + k, out, seen));
      return;
    }
    if (!value.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Method getter : value.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) {
        continue;
      }
      Object v;
      try {
        v = getter.invoke(value);
      } catch (IllegalAccessException | InvocationTargetException e) {
        continue;
      }
      String field = Character.toLowerCase(getter.getName().charAt(3)) + getter.getName().substring(4);
      if (getter.getName().equals("getAdditionalProperties") && v instanceof Map<?, ?> extra) {
        if (!extra.isEmpty()) {
          out.add(path + ": unknown field(s) " + extra.keySet());
        }
        continue;
      }
      if (v instanceof JsonNode) {
        continue;
      }
      unknownFields(v, path + "." + field, out, seen);
    }
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> type, String name) {
    return find(type, name).orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name
        + " rendered; have " + objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList()));
  }

  <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
    return all(type).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst();
  }

  Set<String> kinds() {
    return Set.copyOf(objects.stream().map(HasMetadata::getKind).toList());
  }
}
