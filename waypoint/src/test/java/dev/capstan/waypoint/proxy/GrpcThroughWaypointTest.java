package dev.capstan.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.nodeagent.testing.TwoNodeMesh;
import dev.capstan.waypoint.Waypoint;
import io.grpc.CallOptions;
import io.grpc.HttpConnectProxiedSocketAddress;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real gRPC client (grpc-java) in a pod of node-a calls a real gRPC server behind a service that
 * uses a waypoint: the client's HTTP/2 goes through agent A's explicit proxy (HTTP CONNECT, as
 * grpc-java does for a proxy), HBONE to the waypoint, which routes it by its method path and
 * sends it over HTTP/2 to the endpoint's agent B. Messages are strings, so no code generation.
 */
class GrpcThroughWaypointTest {

  private static final String ECHO_VIP = "127.0.100.3";
  private static final String POD_E = "127.0.2.5";
  private static final String POD_W = "127.0.3.1";

  private static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private static final MethodDescriptor<String, String> SAY = method("Say", MethodDescriptor.MethodType.UNARY);
  private static final MethodDescriptor<String, String> COUNT = method("Count", MethodDescriptor.MethodType.SERVER_STREAMING);
  private static final MethodDescriptor<String, String> CHAT = method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);
  private static final MethodDescriptor<String, String> MISSING = method("Missing", MethodDescriptor.MethodType.UNARY);

  private static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<String, String>newBuilder().setType(type).setFullMethodName("test.Echo/" + name)
        .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();
  }

  private TwoNodeMesh mesh;
  private Server server;
  private Waypoint waypoint;
  private ManagedChannel channel;
  private final List<String> serverSaw = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    int appPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      appPort = s.getLocalPort();
    }
    ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
        .addMethod(SAY, ServerCalls.asyncUnaryCall((String request, StreamObserver<String> answer) -> {
          answer.onNext("hello " + request);
          answer.onCompleted();
        }))
        .addMethod(COUNT, ServerCalls.asyncServerStreamingCall((String request, StreamObserver<String> answer) -> {
          for (int i = 1; i <= Integer.parseInt(request); i++) {
            answer.onNext("n" + i);
          }
          answer.onCompleted();
        }))
        .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall((StreamObserver<String> answer) -> new StreamObserver<String>() {
          @Override
          public void onNext(String value) {
            answer.onNext("echo " + value); // one answer per message, as it arrives
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            answer.onCompleted();
          }
        }))
        .addMethod(MISSING, ServerCalls.asyncUnaryCall((String request, StreamObserver<String> answer) ->
            answer.onError(Status.NOT_FOUND.withDescription("no such thing: " + request).asRuntimeException())))
        .build();
    ServerInterceptor headers = new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata metadata, ServerCallHandler<Q, A> next) {
        serverSaw.add(call.getMethodDescriptor().getFullMethodName() + " x-route=" + metadata.get(key("x-route"))
            + " traceparent=" + (metadata.get(key("traceparent")) != null));
        return next.startCall(call, metadata);
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress(POD_E, appPort))
        .addService(ServerInterceptors.intercept(echo, headers)).build().start();

    mesh = new TwoNodeMesh("", 100, "",
        """
        - {uid: pod-e, name: echo-1, namespace: shop, serviceAccount: echo, ips: ["%s"], node: node-b}
        - {uid: pod-w, name: waypoint-1, namespace: shop, serviceAccount: waypoint, ips: ["%s"], node: node-w}
        """.formatted(POD_E, POD_W),
        """
        - {namespace: shop, name: echo, vips: ["%s"], ports: [{name: grpc, port: 9090, targetPort: %d}], endpoints: [{workload: pod-e}], waypoint: shop/waypoint}
        - {namespace: shop, name: waypoint, vips: [], ports: [{name: hbone, port: %%hbone}], endpoints: [{workload: pod-w}]}
        """.formatted(ECHO_VIP, appPort));
    Path routes = mesh.dir().resolve("routes");
    Files.createDirectories(routes);
    Files.writeString(routes.resolve("echo.yaml"), """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: echo, namespace: shop}
        spec:
          parentRefs: [{group: "", kind: Service, name: echo, port: 9090}]
          rules:
          - matches: [{path: {type: PathPrefix, value: /test.Echo/}}]
            filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-route, value: echo}]}}]
            backendRefs: [{name: echo, port: 9090}]
        """);
    waypoint = MeshWaypoint.start(mesh, POD_W, "");

    InetSocketAddress proxy = mesh.a.listening().get("explicit-proxy");
    channel = NettyChannelBuilder.forAddress(ECHO_VIP, 9090) // resolved by name, so the proxy detector is asked
        .usePlaintext()
        .proxyDetector(target -> HttpConnectProxiedSocketAddress.newBuilder()
            .setTargetAddress((InetSocketAddress) target).setProxyAddress(proxy).build())
        .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
          @Override
          public SocketAddress createSocketAddress(SocketAddress remote, io.grpc.Attributes attrs) {
            return new InetSocketAddress(TwoNodeMesh.POD_A, 0); // the client pod's address: its identity at agent A
          }
        })
        .build();
  }

  private static Metadata.Key<String> key(String name) {
    return Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (waypoint != null) {
      waypoint.close();
    }
    if (mesh != null) {
      mesh.close();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private CallOptions deadline() {
    return CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @Test
  void a_unary_call_is_routed_by_its_method_path_and_answered() {
    String answer = ClientCalls.blockingUnaryCall(channel, SAY, deadline(), "capstan");

    assertThat(answer).isEqualTo("hello capstan");
    assertThat(serverSaw).containsExactly("test.Echo/Say x-route=echo traceparent=true");
  }

  @Test
  void a_server_stream_arrives_whole_and_in_order() {
    Iterator<String> stream = ClientCalls.blockingServerStreamingCall(channel, COUNT, deadline(), "50");
    List<String> got = new ArrayList<>();
    stream.forEachRemaining(got::add);

    assertThat(got).hasSize(50).startsWith("n1", "n2").endsWith("n50");
  }

  @Test
  void a_bidirectional_stream_answers_each_message_before_the_next_is_sent() throws Exception {
    LinkedBlockingQueue<String> answers = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<Object> end = new LinkedBlockingQueue<>();
    StreamObserver<String> requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(CHAT, deadline()),
        new StreamObserver<String>() {
          @Override
          public void onNext(String value) {
            answers.add(value);
          }

          @Override
          public void onError(Throwable t) {
            end.add(t);
          }

          @Override
          public void onCompleted() {
            end.add("completed");
          }
        });
    // Ping-pong: a proxy that waited for the whole request before forwarding it would never answer.
    for (int i = 1; i <= 3; i++) {
      requests.onNext("m" + i);
      assertThat(answers.poll(10, TimeUnit.SECONDS)).as("the answer to message %d, before the stream ends", i).isEqualTo("echo m" + i);
    }
    requests.onCompleted();

    assertThat(end.poll(10, TimeUnit.SECONDS)).isEqualTo("completed");
  }

  @Test
  void a_status_in_the_trailers_reaches_the_client_with_its_message() {
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, MISSING, deadline(), "x"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).isEqualTo("no such thing: x");
        });
  }

  @Test
  void a_method_no_route_matches_fails_with_unimplemented_from_the_waypoints_404() {
    MethodDescriptor<String, String> other = MethodDescriptor.<String, String>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("other.Service/Call")
        .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, other, deadline(), "x"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED)); // gRPC maps HTTP 404 so
    assertThat(serverSaw).isEmpty();
  }
}
