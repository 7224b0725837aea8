package dev.capstan.controller.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.capstan.controller.source.ManifestChecks.Check;
import dev.capstan.controller.source.crd.AuthorizationPolicyResource;
import dev.capstan.controller.source.crd.TrafficPolicyResource;
import dev.capstan.controller.source.crd.WaypointResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import dev.capstan.core.model.MeshSnapshot;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The clusterless source's reader: every {@code *.yaml} / {@code *.yml} file of a directory (not
 * its subdirectories, nor hidden files), multi-document, into the objects the {@link Translator}
 * takes. Input is all valid or rejected as a whole, every problem with its file and line.
 *
 * <p>Kinds read: see {@link #KINDS}; other kinds are skipped with a log line. Defaults filled in
 * after checking: {@code metadata.namespace} {@code default}, a pod's {@code status.phase} {@code
 * Running}, a pod's {@code metadata.uid} derived from its namespace and name.
 */
public final class ManifestDirectory {

  private static final Logger LOG = LoggerFactory.getLogger(ManifestDirectory.class);
  private static final String DEFAULT_NAMESPACE = "default";
  /** The Gateway API version whose routes are read. */
  static final String GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";
  private static final ObjectMapper YAML = YAMLMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  /**
   * One supported kind: how to read, check and collect it. Adding a kind is one line here (and a
   * component of {@link Resources}).
   */
  private record Kind<T extends HasMetadata>(
      String apiVersion, String kind, Class<T> type, boolean namespaced,
      BiConsumer<T, Check> check, BiConsumer<Resources.Builder, T> collect) {

    String key() {
      return apiVersion + " " + kind;
    }
  }

  private static final List<Kind<?>> KINDS = List.of(
      new Kind<>("v1", "Namespace", Namespace.class, false, ManifestChecks::namespace, Resources.Builder::namespace),
      new Kind<>("v1", "Pod", Pod.class, true, ManifestChecks::pod, Resources.Builder::pod),
      new Kind<>("v1", "Service", Service.class, true, ManifestChecks::service, Resources.Builder::service),
      new Kind<>("discovery.k8s.io/v1", "EndpointSlice", EndpointSlice.class, true,
          ManifestChecks::endpointSlice, Resources.Builder::endpointSlice),
      new Kind<>(AuthorizationPolicyResource.API_VERSION, AuthorizationPolicyResource.KIND,
          AuthorizationPolicyResource.class, true,
          ManifestChecks::authorizationPolicy, Resources.Builder::authorizationPolicy),
      new Kind<>(TrafficPolicyResource.API_VERSION, TrafficPolicyResource.KIND, TrafficPolicyResource.class, true,
          ManifestChecks::trafficPolicy, Resources.Builder::trafficPolicy),
      new Kind<>(WaypointResource.API_VERSION, WaypointResource.KIND, WaypointResource.class, true,
          ManifestChecks::waypoint, Resources.Builder::waypoint),
      new Kind<>(GATEWAY_API_VERSION, "HTTPRoute", GenericKubernetesResource.class, true,
          ManifestChecks::route, Resources.Builder::route),
      new Kind<>(GATEWAY_API_VERSION, "GRPCRoute", GenericKubernetesResource.class, true,
          ManifestChecks::route, Resources.Builder::route));

  private static final Map<String, Kind<?>> KINDS_BY_NAME =
      KINDS.stream().collect(Collectors.toUnmodifiableMap(Kind::kind, k -> k));

  /**
   * One reason the directory was rejected.
   *
   * @param file the file (or the directory itself)
   * @param line 1-based line in the file, or 0 when the problem has no line
   * @param reason what is wrong, naming the object and field
   */
  public record Problem(Path file, int line, String reason) {
    public Problem {
      Objects.requireNonNull(file, "file");
      Objects.requireNonNull(reason, "reason");
    }

    /** {@code file:line: reason}, as compilers print it. */
    @Override
    public String toString() {
      return line > 0 ? file + ":" + line + ": " + reason : file + ": " + reason;
    }
  }

  /** The outcome of reading a directory: {@link Valid} or {@link Invalid}. */
  public sealed interface Result permits Valid, Invalid {}

  /**
   * The directory is valid.
   *
   * @param resources the objects read, defaults filled in
   * @param snapshot the mesh they describe
   */
  public record Valid(Resources resources, MeshSnapshot snapshot) implements Result {}

  /**
   * The directory is rejected.
   *
   * @param problems every problem found, by file and line
   */
  public record Invalid(List<Problem> problems) implements Result {
    public Invalid {
      problems = List.copyOf(problems);
    }
  }

  private ManifestDirectory() {}

  /** Reads, checks and translates the manifests of a directory. */
  public static Result load(Path dir) {
    List<Path> files;
    try {
      files = manifestFiles(dir);
    } catch (IOException e) {
      return new Invalid(List.of(new Problem(dir, 0, "cannot list the directory: " + e)));
    }
    List<Problem> problems = new ArrayList<>();
    List<Parsed<?>> parsed = new ArrayList<>();
    for (Path file : files) {
      readFile(file, parsed, problems);
    }
    crossChecks(parsed, problems);
    if (!problems.isEmpty()) {
      problems.sort(Comparator.comparing((Problem p) -> p.file().toString()).thenComparingInt(Problem::line));
      return new Invalid(problems);
    }
    Resources.Builder builder = new Resources.Builder();
    for (Parsed<?> p : parsed) {
      p.fillDefaults();
      p.collectInto(builder);
    }
    Resources resources = builder.build();
    return new Valid(resources, Translator.translate(resources));
  }

  /** The manifest files of the directory, by name: regular {@code *.yaml}/{@code *.yml}, not hidden. */
  static List<Path> manifestFiles(Path dir) throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries
          .filter(p -> {
            String name = p.getFileName().toString();
            String lower = name.toLowerCase(Locale.ROOT);
            return !name.startsWith(".") && (lower.endsWith(".yaml") || lower.endsWith(".yml")) && Files.isRegularFile(p);
          })
          .sorted(Comparator.comparing(p -> p.getFileName().toString()))
          .toList();
    }
  }

  /** One object read from a file, with where it came from. */
  private record Parsed<T extends HasMetadata>(Kind<T> kind, T object, Check check) {

    String namespace() {
      String ns = object.getMetadata().getNamespace();
      return kind.namespaced() ? (ns == null ? DEFAULT_NAMESPACE : ns) : "";
    }

    String name() {
      return object.getMetadata().getName();
    }

    String identity() {
      return kind.kind() + " " + (kind.namespaced() ? namespace() + "/" : "") + name();
    }

    String where() {
      return check.file() + ":" + check.line("metadata.name");
    }

    void fillDefaults() {
      if (kind.namespaced() && object.getMetadata().getNamespace() == null) {
        object.getMetadata().setNamespace(DEFAULT_NAMESPACE);
      }
      if (object instanceof Pod pod) {
        if (pod.getMetadata().getUid() == null) {
          pod.getMetadata().setUid(derivedUid(kind.kind(), namespace(), name()));
        }
        if (pod.getStatus() == null) {
          pod.setStatus(new PodStatus());
        }
        if (pod.getStatus().getPhase() == null) {
          pod.getStatus().setPhase("Running");
        }
      }
    }

    void collectInto(Resources.Builder builder) {
      kind.collect().accept(builder, object);
    }
  }

  /** A stable uid for an object that has none: a name-based UUID of its kind, namespace and name. */
  static String derivedUid(String kind, String namespace, String name) {
    return UUID.nameUUIDFromBytes(("capstan.dev/clusterless/" + kind + "/" + namespace + "/" + name)
        .getBytes(StandardCharsets.UTF_8)).toString();
  }

  private static void readFile(Path file, List<Parsed<?>> parsed, List<Problem> problems) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
          .toString();
    } catch (CharacterCodingException e) {
      problems.add(new Problem(file, 0, "not UTF-8 text"));
      return;
    } catch (IOException e) {
      problems.add(new Problem(file, 0, "cannot read: " + e));
      return;
    }
    for (YamlDocuments.Document document : YamlDocuments.split(text)) {
      readDocument(file, document, parsed, problems);
    }
  }

  private static void readDocument(Path file, YamlDocuments.Document document, List<Parsed<?>> parsed, List<Problem> problems) {
    JsonNode tree;
    LineIndex lines;
    try {
      tree = YAML.readTree(document.text());
      lines = LineIndex.of(YAML, document);
    } catch (JsonProcessingException e) {
      problems.add(syntaxProblem(file, document, e));
      return;
    } catch (IOException e) {
      problems.add(new Problem(file, document.firstLine(), "cannot parse: " + e));
      return;
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      return;
    }
    if (!tree.isObject()) {
      problems.add(new Problem(file, document.firstLine(), "a manifest must be a mapping with apiVersion and kind"));
      return;
    }
    String apiVersion = tree.path("apiVersion").isTextual() ? tree.get("apiVersion").asText() : null;
    String kindName = tree.path("kind").isTextual() ? tree.get("kind").asText() : null;
    String name = tree.path("metadata").path("name").isTextual() ? tree.get("metadata").get("name").asText() : "<unnamed>";
    if (apiVersion == null || kindName == null) {
      problems.add(new Problem(file, lines.lineOf(apiVersion == null ? "apiVersion" : "kind"),
          "a manifest needs apiVersion and kind (strings)"));
      return;
    }
    Kind<?> kind = KINDS_BY_NAME.get(kindName);
    if (kind == null) {
      LOG.info("{}:{}: skipping {} {} {}: kind not read by the clusterless source",
          file, document.firstLine(), apiVersion, kindName, name);
      return;
    }
    if (!kind.apiVersion().equals(apiVersion)) {
      problems.add(new Problem(file, lines.lineOf("apiVersion"),
          kindName + " " + name + ": apiVersion must be " + kind.apiVersion() + ", got '" + apiVersion + "'"));
      return;
    }
    Check check = new Check(file, lines, kindName + " " + name, problems);
    read(kind, document, check).ifPresent(parsed::add);
  }

  private static <T extends HasMetadata> Optional<Parsed<T>> read(Kind<T> kind, YamlDocuments.Document document, Check check) {
    T object;
    try {
      object = YAML.readValue(document.text(), kind.type());
    } catch (JsonMappingException e) {
      String path = path(e);
      check.error(path, typeError(e));
      return Optional.empty();
    } catch (IOException e) {
      check.error("", "cannot read: " + e.getMessage());
      return Optional.empty();
    }
    int before = problemCount(check);
    kind.check().accept(object, check);
    return problemCount(check) == before ? Optional.of(new Parsed<>(kind, object, check)) : Optional.empty();
  }

  /** Duplicates, undeclared namespaces, IPs and uids claimed twice. */
  private static void crossChecks(List<Parsed<?>> parsed, List<Problem> problems) {
    Map<String, Parsed<?>> byIdentity = new HashMap<>();
    List<Parsed<?>> unique = new ArrayList<>();
    for (Parsed<?> p : parsed) {
      Parsed<?> first = byIdentity.putIfAbsent(p.identity(), p);
      if (first != null) {
        p.check().error("metadata.name", "is defined twice: " + p.identity() + " is also at " + first.where());
      } else {
        unique.add(p);
      }
    }
    List<String> namespaces = unique.stream().filter(p -> p.kind().kind().equals("Namespace")).map(Parsed::name).toList();
    for (Parsed<?> p : unique) {
      if (p.kind().namespaced() && !DEFAULT_NAMESPACE.equals(p.namespace()) && !namespaces.contains(p.namespace())) {
        p.check().error("metadata.namespace", "'" + p.namespace() + "' is not declared (add a Namespace manifest)");
      }
    }
    Map<String, Parsed<?>> ipOwners = new HashMap<>();
    Map<String, Parsed<?>> uidOwners = new HashMap<>();
    for (Parsed<?> p : unique) {
      if (p.object() instanceof Pod pod) {
        List<String> ips = new ArrayList<>(Translator.podIps(pod.getStatus()));
        if (ips.isEmpty() && pod.getStatus() != null && pod.getStatus().getPodIP() != null) {
          ips.add(pod.getStatus().getPodIP());
        }
        for (String ip : ips) {
          Parsed<?> owner = ipOwners.putIfAbsent(Translator.canonicalIp(ip), p);
          if (owner != null && owner != p) {
            p.check().error("status.podIP", ip + " is also the IP of " + owner.identity() + " (" + owner.where() + ")");
          }
        }
        String uid = pod.getMetadata().getUid();
        if (uid != null) {
          Parsed<?> owner = uidOwners.putIfAbsent(uid, p);
          if (owner != null) {
            p.check().error("metadata.uid", uid + " is also the uid of " + owner.identity() + " (" + owner.where() + ")");
          }
        }
      }
      if (p.object() instanceof Service service && service.getSpec() != null) {
        List<String> vips = new ArrayList<>();
        if (service.getSpec().getClusterIPs() != null) {
          vips.addAll(service.getSpec().getClusterIPs());
        }
        if (service.getSpec().getClusterIP() != null) {
          vips.add(service.getSpec().getClusterIP());
        }
        vips.stream().filter(ip -> !ip.isEmpty() && !"None".equals(ip)).map(Translator::canonicalIp).distinct().forEach(ip -> {
          Parsed<?> owner = ipOwners.putIfAbsent(ip, p);
          if (owner != null && owner != p) {
            p.check().error("spec.clusterIP", ip + " is also the IP of " + owner.identity() + " (" + owner.where() + ")");
          }
        });
      }
    }
  }

  private static Problem syntaxProblem(Path file, YamlDocuments.Document document, JsonProcessingException e) {
    if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException marked && marked.getProblemMark() != null) {
      String context = marked.getContext() == null ? "" : " (" + marked.getContext()
          + (marked.getContextMark() == null ? "" : " at line " + document.fileLine(marked.getContextMark().getLine() + 1)) + ")";
      return new Problem(file, document.fileLine(marked.getProblemMark().getLine() + 1),
          "YAML syntax error: " + marked.getProblem() + context);
    }
    int line = e.getLocation() == null ? 1 : e.getLocation().getLineNr();
    return new Problem(file, document.fileLine(line), "YAML error: " + firstLine(e.getOriginalMessage()));
  }

  private static String typeError(JsonMappingException e) {
    if (e instanceof UnrecognizedPropertyException u) {
      String known = u.getKnownPropertyIds() == null ? "" : u.getKnownPropertyIds().stream()
          .map(String::valueOf).sorted().collect(Collectors.joining(", ", " (known: ", ")"));
      return "is not a known field" + known;
    }
    return "has the wrong type: " + firstLine(e.getOriginalMessage());
  }

  private static String path(JsonMappingException e) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (path.length() > 0) {
          path.append('.');
        }
        path.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
      }
    }
    return path.toString();
  }

  private static int problemCount(Check check) {
    return check.problems().size();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
