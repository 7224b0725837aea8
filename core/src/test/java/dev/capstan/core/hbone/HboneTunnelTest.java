package dev.capstan.core.hbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.Splice;
import dev.capstan.core.io.Transport;
import dev.capstan.core.testing.EchoServer;
import dev.capstan.core.testing.SpliceAcceptor;
import dev.capstan.core.testing.TestCa;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Issuer;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.TlsEngine;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** HBONE client and server over real loopback sockets and real mutual TLS, with both TLS engines. */
class HboneTunnelTest {

  private final TestCa ca = new TestCa();
  private final CertifiedKey server = ca.leaf("shop", "backend");
  private final CertifiedKey client = ca.leaf("shop", "frontend");
  private final List<HboneServer.Refusal> refusals = new CopyOnWriteArrayList<>();
  private final List<HboneServer.Request> accepted = new CopyOnWriteArrayList<>();
  private EventLoopGroup group;
  private Channel listener;
  private EchoServer echo;
  private Transport transport;

  @BeforeEach
  void setUp() throws Exception {
    transport = Transport.best();
    group = transport.newGroup(2, "test-io");
    echo = new EchoServer("127.0.0.1");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (listener != null) {
      listener.close().sync();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    echo.close();
  }

  private InetSocketAddress startServer(TlsEngine engine) throws Exception {
    return startServer(engine, new SpliceAcceptor(transport, request -> echo.address(), accepted::add, refusals::add));
  }

  private InetSocketAddress startServer(TlsEngine engine, HboneServer.Acceptor acceptor) throws Exception {
    MeshTls tls = ca.tls(engine);
    SslContext ctx = tls.server(server);
    listener = new ServerBootstrap().group(group).channel(transport.serverChannel())
        .childHandler(new HboneServer(local -> Optional.of(new HboneServer.ServerTls(server.identity(), ctx)),
            HboneSettings.defaults(), acceptor))
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    return (InetSocketAddress) listener.localAddress();
  }

  private HboneConnection connect(InetSocketAddress address, SslContext tls, SpiffeId expected) throws Exception {
    Bootstrap b = new Bootstrap().group(group).channel(transport.socketChannel());
    return await(HboneConnection.connect(b, address, tls, expected, HboneSettings.defaults()));
  }

  private static <T> T await(io.netty.util.concurrent.Future<T> f) throws Exception {
    if (!f.await(10, TimeUnit.SECONDS)) {
      throw new AssertionError("timed out");
    }
    if (!f.isSuccess()) {
      throw new ExecutionException(f.cause());
    }
    return f.getNow();
  }

  /** Sends {@code payload} then END_STREAM and collects what comes back until END_STREAM. */
  private static CompletableFuture<String> exchange(Http2StreamChannel stream, String payload) {
    CompletableFuture<String> result = new CompletableFuture<>();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    stream.eventLoop().execute(() -> {
      stream.pipeline().addLast(new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          if (msg instanceof Http2DataFrame data) {
            ByteBuf content = data.content();
            byte[] bytes = new byte[content.readableBytes()];
            content.readBytes(bytes);
            got.writeBytes(bytes);
            boolean end = data.isEndStream();
            data.release();
            if (end) {
              result.complete(got.toString(StandardCharsets.UTF_8));
            }
          }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
          result.complete(got.toString(StandardCharsets.UTF_8));
        }
      });
      stream.config().setAutoRead(true);
      stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(payload, StandardCharsets.UTF_8), true));
    });
    return result;
  }

  private Http2StreamChannel open(HboneConnection c, String authority) throws Exception {
    CompletableFuture<io.netty.util.concurrent.Future<Http2StreamChannel>> f = new CompletableFuture<>();
    c.channel().eventLoop().execute(() -> f.complete(c.open(authority, Map.of("baggage", "k8s.namespace.name=shop"))));
    return await(f.get(10, TimeUnit.SECONDS));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = TlsEngine.class, names = {"OPENSSL", "JDK"})
  void tunnel_carries_bytes_both_ways_and_half_closes(TlsEngine engine) throws Exception {
    InetSocketAddress address = startServer(engine);
    HboneConnection c = connect(address, ca.tls(engine).client(client), server.identity());

    Http2StreamChannel stream = open(c, Hbone.authority(echo.address()));

    assertThat(exchange(stream, "hello through the mesh").get(10, TimeUnit.SECONDS)).isEqualTo("hello through the mesh");
    assertThat(accepted).singleElement().satisfies(r -> {
      assertThat(r.peer()).isEqualTo(client.identity());
      assertThat(r.local()).isEqualTo(server.identity());
      assertThat(r.target()).isEqualTo(echo.address());
      assertThat(r.headers().get("baggage")).hasToString("k8s.namespace.name=shop");
    });
  }

  @Test
  void many_streams_share_one_tls_connection() throws Exception {
    InetSocketAddress address = startServer(TlsEngine.AUTO);
    HboneConnection c = connect(address, ca.tls(TlsEngine.AUTO).client(client), server.identity());
    List<CompletableFuture<String>> replies = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      replies.add(exchange(open(c, Hbone.authority(echo.address())), "stream " + i));
    }
    for (int i = 0; i < 50; i++) {
      assertThat(replies.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("stream " + i);
    }
    assertThat(echo.accepted()).isEqualTo(50);
    assertThat(accepted).extracting(r -> r.peerAddress()).containsOnly(accepted.get(0).peerAddress());
  }

  @Test
  void answers_that_arrive_together_reach_the_app_in_one_write() throws Exception {
    // Once each of the 8 tunnels has asked (one byte), the server answers 32 DATA frames on each,
    // interleaved across the tunnels, all in one event-loop turn: as the answers of many requests
    // of an HTTP/2 client's connections come back to its node agent, several per tunnel in each
    // read. After its first 16 frames Netty's stream channel reports each frame as a read of its
    // own (about 900 read-completes for these 1,024 frames); a flush in each made a write syscall
    // and a TCP segment per answer (about 900 writes here).
    int frames = 32;
    int tunnels = 8;
    String chunk = "0123456789abcdef";
    List<Http2StreamChannel> asked = new ArrayList<>();
    InetSocketAddress address = startServer(TlsEngine.AUTO, new HboneServer.Acceptor() {
      @Override
      public void accept(HboneServer.Request request) {
        Http2StreamChannel served = request.stream();
        HboneStreams.accept(served);
        served.pipeline().addLast(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            asked.add(served);
            if (asked.size() < tunnels) {
              return;
            }
            List<Http2StreamChannel> answering = new ArrayList<>(asked);
            asked.clear();
            // Answered from a task, as a waypoint answers from its upstreams' reads: each answer is
            // flushed as it is written (inside this connection's own read, or written together,
            // the encoder would merge them into one frame per stream).
            ctx.channel().eventLoop().execute(() -> {
              for (int i = 0; i < frames; i++) {
                for (Http2StreamChannel s : answering) {
                  s.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(chunk, StandardCharsets.UTF_8), false));
                }
              }
            });
          }
        });
        served.config().setAutoRead(true);
      }

      @Override
      public void refused(HboneServer.Refusal refusal) {
        refusals.add(refusal);
      }
    });
    HboneConnection c = connect(address, ca.tls(TlsEngine.AUTO).client(client), server.identity());
    int batches = 4;
    AtomicInteger socketFlushes = new AtomicInteger();
    try (ServerSocket app = new ServerSocket(0, tunnels, InetAddress.getLoopbackAddress())) {
      List<Socket> appSides = new ArrayList<>();
      try {
        for (int t = 0; t < tunnels; t++) {
          Http2StreamChannel stream = open(c, Hbone.authority(echo.address()));
          Channel socket = new Bootstrap().group(stream.eventLoop()).channel(transport.socketChannel())
              .option(ChannelOption.AUTO_READ, false).option(ChannelOption.ALLOW_HALF_CLOSURE, true)
              .handler(new ChannelInboundHandlerAdapter())
              .connect(app.getLocalSocketAddress()).sync().channel();
          Socket appSide = app.accept();
          appSide.setSoTimeout(10_000);
          appSides.add(appSide);
          stream.eventLoop().submit(() -> {
            Splice.start(socket, stream, r -> {});
            // Counts the flushes that reach the socket: each became a write syscall and a TCP segment.
            socket.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
              @Override
              public void flush(ChannelHandlerContext ctx) {
                socketFlushes.incrementAndGet();
                ctx.flush();
              }
            });
          }).sync();
        }
        for (int b = 0; b < batches; b++) {
          for (Socket appSide : appSides) {
            appSide.getOutputStream().write('?');
          }
          for (Socket appSide : appSides) {
            assertThat(new String(appSide.getInputStream().readNBytes(frames * chunk.length()), StandardCharsets.UTF_8))
                .isEqualTo(chunk.repeat(frames));
          }
        }
      } finally {
        for (Socket appSide : appSides) {
          appSide.close();
        }
      }
    }
    assertThat(socketFlushes.get()).as("writes to the apps of %d tunnels for %d batches of %d answers", tunnels, batches, frames)
        .isBetween(tunnels * batches, 4 * tunnels * batches);
  }

  @Test
  void client_refuses_a_peer_that_is_not_the_expected_identity() throws Exception {
    InetSocketAddress address = startServer(TlsEngine.AUTO);
    SpiffeId expected = SpiffeId.of(TestCa.TRUST_DOMAIN, "shop", "payments");

    assertThatThrownBy(() -> connect(address, ca.tls(TlsEngine.AUTO).client(client), expected))
        .hasRootCauseInstanceOf(HboneException.class)
        .rootCause().satisfies(e -> assertThat(((HboneException) e).kind()).isEqualTo(HboneException.Kind.WRONG_PEER_IDENTITY));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = TlsEngine.class, names = {"OPENSSL", "JDK"})
  void server_refuses_client_certificates_it_must_not_trust(TlsEngine engine) throws Exception {
    InetSocketAddress address = startServer(engine);
    Instant now = Instant.now();
    Issuer foreignCa = Issuer.selfSignedRoot("cluster.local", now, Duration.ofDays(1));
    Issuer foreignDomainCa = ca.issuer();
    var pair = Issuer.newKeyPair();
    Map<String, CertifiedKey> cases = Map.of(
        "untrusted_chain", foreignCa.issue(client.identity(), now, Duration.ofHours(1)),
        "foreign_trust_domain", foreignDomainCa.issue(SpiffeId.of("evil.example", "shop", "frontend"), now, Duration.ofHours(1)),
        "bad_san", new CertifiedKey(client.identity(), pair.getPrivate(), List.of(
            ca.issuer().leaf(pair.getPublic(), List.of(client.identity().uri(), "spiffe://cluster.local/ns/x/sa/y"),
                now.minusSeconds(60), now.plusSeconds(3600)), ca.issuer().certificate())),
        "expired", new CertifiedKey(client.identity(), pair.getPrivate(), List.of(
            ca.issuer().leaf(pair.getPublic(), List.of(client.identity().uri()),
                now.minusSeconds(7200), now.minusSeconds(3600)), ca.issuer().certificate())));
    MeshTls tls = ca.tls(engine);
    for (var e : cases.entrySet()) {
      refusals.clear();
      assertTunnelFails(address, tls.client(e.getValue()));
      awaitRefusal();
      assertThat(refusals).as(e.getKey()).extracting(HboneServer.Refusal::reason).containsExactly(e.getKey());
    }
    assertThat(accepted).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = TlsEngine.class, names = {"OPENSSL", "JDK"})
  void server_refuses_a_client_without_a_certificate(TlsEngine engine) throws Exception {
    InetSocketAddress address = startServer(engine);
    SslContext noCert = io.netty.handler.ssl.SslContextBuilder.forClient()
        .sslProvider(engine.provider())
        .protocols("TLSv1.3")
        .trustManager(ca.tls(engine).trustManager())
        .applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
            io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
            io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "h2"))
        .build();

    assertTunnelFails(address, noCert);
    awaitRefusal();
    assertThat(refusals).extracting(HboneServer.Refusal::reason).containsExactly("no_certificate");
  }

  @Test
  void server_answers_400_to_bad_connect_requests_and_keeps_serving() throws Exception {
    InetSocketAddress address = startServer(TlsEngine.AUTO);
    HboneConnection c = connect(address, ca.tls(TlsEngine.AUTO).client(client), server.identity());

    for (String authority : List.of("not-an-ip:80", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "example.com:443",
        "1".repeat(200) + ":80", "[::1:80", "127.0.0.1:80\u0000")) {
      assertThatThrownBy(() -> open(c, authority)).as(authority)
          .hasRootCauseInstanceOf(HboneException.class)
          .rootCause().satisfies(e -> assertThat(((HboneException) e).status()).isEqualTo(400));
    }
    assertThat(refusals).extracting(HboneServer.Refusal::reason).containsOnly("bad_authority");
    assertThat(exchange(open(c, Hbone.authority(echo.address())), "still serving").get(10, TimeUnit.SECONDS))
        .isEqualTo("still serving");
  }

  /**
   * In TLS 1.3 the client finishes its handshake before the server has checked the client's
   * certificate, so a refused client may see the connection succeed and then fail on first use.
   */
  private void assertTunnelFails(InetSocketAddress address, SslContext tls) throws Exception {
    HboneConnection c;
    try {
      c = connect(address, tls, server.identity());
    } catch (ExecutionException expected) {
      assertThat(expected).hasRootCauseInstanceOf(HboneException.class);
      return;
    }
    assertThatThrownBy(() -> open(c, Hbone.authority(echo.address()))).isInstanceOf(ExecutionException.class);
  }

  private void awaitRefusal() throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (refusals.isEmpty() && System.nanoTime() < end) {
      Thread.sleep(10);
    }
  }
}
