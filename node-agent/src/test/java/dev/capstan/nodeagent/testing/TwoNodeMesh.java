package dev.capstan.nodeagent.testing;

import dev.capstan.core.io.FreePorts;
import dev.capstan.core.testing.EchoServer;
import dev.capstan.nodeagent.NodeAgent;
import dev.capstan.nodeagent.NodeAgentMain;
import dev.capstan.nodeagent.config.AgentConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * Two node agents in one JVM and their pods, all on loopback addresses (no root needed):
 *
 * <pre>
 * node-a: pod A   127.0.1.1  shop/frontend     pod C 127.0.1.3  tenant-b/default
 * node-b: pod B1  127.0.2.1  shop/backend      pod B2 127.0.2.2 shop/backend   (echo servers)
 * service shop/backend  VIP 127.0.100.1:80 → B1, B2 : backendPort
 * </pre>
 *
 * Certificates are written by the real {@code certs} command. Every listener binds port 0 except
 * HBONE, whose port must be the same on every pod IP.
 */
public final class TwoNodeMesh implements AutoCloseable {

  public static final String POD_A = "127.0.1.1";
  public static final String POD_C = "127.0.1.3";
  public static final String POD_B1 = "127.0.2.1";
  public static final String POD_B2 = "127.0.2.2";
  public static final String VIP = "127.0.100.1";
  public static final String POD_B3 = "127.0.2.3";
  public static final String NOT_IN_MESH = "127.0.1.99";

  private final Path dir;
  private final int hbonePort;
  public final EchoServer b1;
  public final EchoServer b2;
  public final NodeAgent a;
  public final NodeAgent b;
  private final HttpClient http = HttpClient.newHttpClient();
  private final int maxStreams;
  private final String agentYaml;
  private final String extraWorkloads;
  private final String extraServices;

  public TwoNodeMesh() throws Exception {
    this("");
  }

  /** A mesh with the given {@code policies:} YAML list items (may be empty). */
  public TwoNodeMesh(String policies) throws Exception {
    this(policies, 100);
  }

  /** A mesh whose agents carry at most {@code maxStreams} streams per HBONE connection. */
  public TwoNodeMesh(String policies, int maxStreams) throws Exception {
    this(policies, maxStreams, "");
  }

  /** A mesh whose agents' configs end with {@code agentYaml} (e.g. a {@code quota:} block). */
  public TwoNodeMesh(String policies, int maxStreams, String agentYaml) throws Exception {
    this(policies, maxStreams, agentYaml, "", "");
  }

  /**
   * A mesh with more workloads and services: YAML list items (one per line, no indent) appended
   * to the mesh file's {@code workloads:} and {@code services:}; {@code %hbone} in them is the HBONE port.
   */
  public TwoNodeMesh(String policies, int maxStreams, String agentYaml, String extraWorkloads, String extraServices)
      throws Exception {
    this.maxStreams = maxStreams;
    this.agentYaml = agentYaml;
    dir = Files.createTempDirectory("capstan-mesh");
    hbonePort = freePort();
    this.extraWorkloads = extraWorkloads.replace("%hbone", String.valueOf(hbonePort));
    this.extraServices = extraServices.replace("%hbone", String.valueOf(hbonePort));
    b1 = new EchoServer(POD_B1);
    b2 = new EchoServer(POD_B2, b1.port());
    writeMesh("v1", policies, true);
    int rc = new CommandLine(new NodeAgentMain()).execute(
        "certs", "--mesh", dir.resolve("mesh.yaml").toString(), "--out", dir.resolve("certs").toString());
    if (rc != 0) {
      throw new IllegalStateException("certs command failed: " + rc);
    }
    a = NodeAgent.start(config("node-a", true));
    b = NodeAgent.start(config("node-b", false));
  }

  /** Rewrites the mesh file; call {@code reloadNow()} on the agents to apply it at once. */
  public void writeMesh(String version, String policies, boolean b2Healthy) throws IOException {
    String yaml = """
        version: "%s"
        workloads:
          - {uid: pod-a, name: frontend-1, namespace: shop, serviceAccount: frontend, ips: ["%s"], node: node-a, labels: {app: frontend}}
          - {uid: pod-c, name: other-1, namespace: tenant-b, serviceAccount: default, ips: ["%s"], node: node-a}
          - {uid: pod-b1, name: backend-1, namespace: shop, serviceAccount: backend, ips: ["%s"], node: node-b, labels: {app: backend}}
          - {uid: pod-b2, name: backend-2, namespace: shop, serviceAccount: backend, ips: ["%s"], node: node-b, labels: {app: backend}}
          - {uid: pod-b3, name: admin-1, namespace: shop, serviceAccount: admin, ips: ["%s"], node: node-b}
        %s
        services:
          - namespace: shop
            name: backend
            vips: ["%s"]
            ports: [{name: tcp, port: 80, targetPort: %d}]
            endpoints: [{workload: pod-b1}, {workload: pod-b2, healthy: %s}]
        %s
        policies:
        %s
        """.formatted(version, POD_A, POD_C, POD_B1, POD_B2, POD_B3, extraWorkloads.indent(2).stripTrailing(), VIP, b1.port(),
            b2Healthy, extraServices.indent(2).stripTrailing(), policies.isBlank() ? "  []" : policies.indent(2));
    Path tmp = dir.resolve("mesh.yaml.tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, dir.resolve("mesh.yaml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  public Path dir() {
    return dir;
  }

  public int hbonePort() {
    return hbonePort;
  }

  /** The certificate and key the certs command wrote for a service account. */
  public dev.capstan.core.tls.CertifiedKey certificate(String namespace, String serviceAccount) throws Exception {
    Path d = dir.resolve("certs").resolve(namespace).resolve(serviceAccount);
    return new dev.capstan.core.tls.CertifiedKey(
        dev.capstan.core.identity.SpiffeId.of("cluster.local", namespace, serviceAccount),
        dev.capstan.core.tls.Pem.privateKey(Files.readString(d.resolve("key.pem"))),
        dev.capstan.core.tls.Pem.certificates(Files.readString(d.resolve("cert-chain.pem"))));
  }

  /** Mesh TLS trusting this mesh's root, as a peer agent would use it. */
  public dev.capstan.core.tls.MeshTls tls() throws Exception {
    var bundle = new dev.capstan.core.tls.TrustBundle(
        dev.capstan.core.tls.Pem.certificates(Files.readString(dir.resolve("certs").resolve("root-cert.pem"))));
    return new dev.capstan.core.tls.MeshTls(
        new dev.capstan.core.tls.SpiffeTrustManager("cluster.local", bundle, java.time.Clock.systemUTC()),
        dev.capstan.core.tls.TlsEngine.AUTO);
  }

  private AgentConfig config(String node, boolean withUpstream) {
    String yaml = """
        node: %s
        mesh: mesh.yaml
        certs: certs
        hbonePort: %d
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        explicitProxy: 127.0.0.1:0
        workerThreads: 2
        reloadInterval: 1h
        drainTimeout: 5s
        accessLog: json
        pool: {maxStreamsPerConnection: %d, idleTimeout: 2s}
        %s
        %s
        """.formatted(node, hbonePort, maxStreams, withUpstream ? "upstreams: [{listen: \"127.0.0.1:0\", service: shop/backend, port: 80}]" : "",
            agentYaml);
    return AgentConfig.parse(yaml, node + ".yaml", dir);
  }

  /** The fixed upstream listener of agent A (to shop/backend:80). */
  public InetSocketAddress upstreamA() {
    return a.listening().get("upstream shop/backend:80");
  }

  /** A TCP connection from {@code sourceIp} ("the pod") to {@code target}. */
  public static Socket connectFrom(String sourceIp, InetSocketAddress target) throws IOException {
    Socket s = new Socket();
    s.setSoTimeout(10_000);
    s.bind(new InetSocketAddress(InetAddress.getByName(sourceIp), 0));
    s.connect(target, 10_000);
    return s;
  }

  /** Writes {@code payload}, half-closes, and reads until the other side closes. */
  public static String roundTrip(Socket s, byte[] payload) throws IOException {
    s.getOutputStream().write(payload);
    s.getOutputStream().flush();
    s.shutdownOutput();
    return new String(readAll(s.getInputStream()), StandardCharsets.ISO_8859_1);
  }

  public static String roundTrip(Socket s, String payload) throws IOException {
    return roundTrip(s, payload.getBytes(StandardCharsets.ISO_8859_1));
  }

  public static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }

  /**
   * Sends {@code CONNECT target HTTP/1.1} from {@code sourceIp} to agent A's explicit proxy and
   * returns the socket positioned after the response head, plus the status.
   */
  public Connected explicitConnect(String sourceIp, String target) throws IOException {
    Socket s = connectFrom(sourceIp, a.listening().get("explicit-proxy"));
    s.getOutputStream().write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    StringBuilder head = new StringBuilder();
    InputStream in = s.getInputStream();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.append((char) c);
    }
    String[] parts = head.toString().split(" ", 3);
    int status = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
    return new Connected(s, status, head.toString());
  }

  /** A socket after an explicit CONNECT. */
  public record Connected(Socket socket, int status, String head) {}

  /** GET on one of an agent's side doors (admin=0, metrics=1, ready=2). */
  public HttpResponse<String> get(NodeAgent agent, int door, String path) throws IOException, InterruptedException {
    int port = agent.adminPorts().get(door);
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The Prometheus text of an agent. */
  public String metrics(NodeAgent agent) throws IOException, InterruptedException {
    return get(agent, 1, "/metrics").body();
  }

  /** Sum of the samples of {@code name} whose labels contain every one of {@code labels} ({@code k="v"}). */
  public static double sample(String prometheusText, String name, String... labels) {
    double sum = 0;
    for (String line : prometheusText.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
        continue;
      }
      boolean all = true;
      for (String l : labels) {
        all &= line.contains(l);
      }
      if (all) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  /**
   * A port free on every pod IP, below the ephemeral range so that no client socket of an earlier
   * test can hold it.
   */
  private static int freePort() throws IOException {
    return freePortOn(POD_A, POD_C, POD_B1, POD_B2, POD_B3, "127.0.0.1");
  }

  /** A port free on every one of {@code ips}, below the ephemeral range ({@link FreePorts}). */
  public static int freePortOn(String... ips) throws IOException {
    return FreePorts.on(new java.util.Random(), ips);
  }

  @Override
  public void close() throws IOException {
    a.close();
    b.close();
    b1.close();
    b2.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
