package dev.capstan.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.hbone.Hbone;
import dev.capstan.core.hbone.HboneConnection;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.io.Transport;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.testing.TestCa;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.TlsEngine;
import dev.capstan.waypoint.state.WaypointView;
import dev.capstan.waypoint.telemetry.RequestTelemetry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HTTP/2 written as raw frames on a source's HBONE stream to the waypoint (Netty's own client
 * refuses to send an oversized head, and starts at stream 3 where curl, nghttp and browsers start
 * at 1): an oversized head is a stream error (431) that leaves the connection usable.
 */
class Http2RawFramesTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static final String VIP = "10.96.0.10";
  private static final int FRAME_DATA = 0x0;
  private static final int FRAME_HEADERS = 0x1;
  private static final int FRAME_SETTINGS = 0x4;
  private static final int FRAME_PING = 0x6;
  private static final int FRAME_WINDOW_UPDATE = 0x8;
  private static final int FRAME_CONTINUATION = 0x9;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;

  private final TestCa ca = new TestCa();
  private final CertifiedKey source = ca.leaf("shop", "frontend");
  private final CertifiedKey waypoint = ca.leaf("shop", "waypoint");
  private EventLoopGroup group;
  private Transport transport;
  private Channel listener;
  private Inbound inbound;
  private MeshTls tls;

  @BeforeEach
  void setUp() throws Exception {
    transport = Transport.best();
    group = transport.newGroup(2, "h2-bad-input");
    tls = ca.tls(TlsEngine.AUTO);
    // A service without endpoints: a good request gets the waypoint's own 503, no app needed.
    Service reviews = new Service("shop", "reviews", List.of(VIP), List.of(new ServicePort("http", 9080, 9080)), List.of());
    WaypointView view = new WaypointView("v1", List.of(reviews), List.of(), List.of());
    var client = tls.client(waypoint);
    inbound = new Inbound(
        new Inbound.Settings(TestCa.TRUST_DOMAIN, 15008, 1 << 20, Duration.ofSeconds(5), 100, 8192, Duration.ofSeconds(5),
            Duration.ofSeconds(30)),
        () -> view, () -> client, new Bootstrap().channel(transport.socketChannel()), HboneSettings.defaults(),
        new RequestTelemetry(registry, e -> { }));
    var server = tls.server(waypoint);
    listener = new ServerBootstrap().group(group).channel(transport.serverChannel())
        .childHandler(new HboneServer(local -> Optional.of(new HboneServer.ServerTls(waypoint.identity(), server)),
            HboneSettings.defaults(), inbound))
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }

  @AfterEach
  void tearDown() throws Exception {
    inbound.close();
    listener.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  // ------------------------------------------------------------------ raw frames

  private static ByteBuf frame(int type, int flags, int stream, ByteBuf payload) {
    ByteBuf b = Unpooled.buffer(9 + payload.readableBytes());
    b.writeMedium(payload.readableBytes()).writeByte(type).writeByte(flags).writeInt(stream).writeBytes(payload);
    payload.release();
    return b;
  }

  private static ByteBuf headerBlock(Http2Headers headers) {
    ByteBuf out = Unpooled.buffer();
    try {
      new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE).encodeHeaders(1, headers, out);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  private static Http2Headers get(String path) {
    return new DefaultHttp2Headers().method("GET").scheme("http").authority("reviews.shop:9080").path(path);
  }

  /** The client's preface and an empty SETTINGS frame. */
  private static ByteBuf preface() {
    return Unpooled.wrappedBuffer(Http2CodecUtil.connectionPrefaceBuf(), frame(FRAME_SETTINGS, 0, 0, Unpooled.EMPTY_BUFFER));
  }

  /** A source's HBONE stream to the waypoint on which raw bytes are written and frames read back. */
  private static ByteBuf bytes(int n) {
    return Unpooled.wrappedBuffer(new byte[n]);
  }

  private final class RawClient implements AutoCloseable {
    final Http2StreamChannel stream;
    final List<String> seen = new CopyOnWriteArrayList<>();

    RawClient() throws Exception {
      Bootstrap b = new Bootstrap().group(group).channel(transport.socketChannel());
      HboneConnection connection = await(HboneConnection.connect(b, (InetSocketAddress) listener.localAddress(),
          tls.client(source), waypoint.identity(), HboneSettings.defaults()));
      stream = await(connection.channel().eventLoop().submit(
          () -> connection.open(VIP + ":9080", Map.of(Hbone.FORWARDED.toString(), "for=\"10.0.0.5:40000\""))).get());
      stream.eventLoop().submit(() -> {
        stream.pipeline().addLast(new StreamBytes(), new FrameLog(seen));
        stream.config().setAutoRead(true);
      }).get();
    }

    void send(ByteBuf bytes) throws Exception {
      stream.eventLoop().submit(() -> stream.writeAndFlush(bytes)).get();
    }

    /** Waits until a frame line starting with {@code prefix} was read. */
    boolean saw(String prefix) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline) {
        if (seen.stream().anyMatch(s -> s.startsWith(prefix))) {
          return true;
        }
        Thread.sleep(10);
      }
      return false;
    }

    @Override
    public void close() {
      stream.close();
    }
  }

  /** Parses what the waypoint sends into lines: {@code GOAWAY <error>}, {@code RST <stream> <error>}, {@code HEADERS <stream> <status>}. */
  private static final class FrameLog extends ChannelInboundHandlerAdapter {
    private final List<String> seen;
    private final DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader();
    private ByteBuf cumulation = Unpooled.EMPTY_BUFFER;

    FrameLog(List<String> seen) {
      this.seen = seen;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      seen.add("EVENT " + evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      seen.add("CLOSED");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      seen.add("FAILED " + cause);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (!(msg instanceof ByteBuf buf)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      cumulation = Unpooled.wrappedBuffer(cumulation, buf);
      reader.readFrame(ctx, cumulation, new Http2FrameAdapter() {
        @Override
        public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
          seen.add("GOAWAY " + Http2Error.valueOf(errorCode));
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
          seen.add("RST " + streamId + " " + Http2Error.valueOf(errorCode));
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding, boolean endStream) {
          seen.add("HEADERS " + streamId + " " + headers.status());
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int dependency, short weight,
            boolean exclusive, int padding, boolean endStream) {
          onHeadersRead(c, streamId, headers, padding, endStream);
        }
      });
      ByteBuf rest = cumulation.isReadable() ? Unpooled.copiedBuffer(cumulation) : Unpooled.EMPTY_BUFFER;
      cumulation.release(); // the frames read, and the buffers they came in
      cumulation = rest;
    }
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

  // ------------------------------------------------------------------ behaviour

  static Stream<Arguments> connectionErrors() {
    Supplier<ByteBuf> continuationFlood = () -> {
      // HEADERS without END_HEADERS, then CONTINUATION frames that never end the block
      ByteBuf all = Unpooled.buffer();
      all.writeBytes(frame(FRAME_HEADERS, END_STREAM, 1, headerBlock(get("/"))));
      for (int i = 0; i < 200; i++) {
        all.writeBytes(frame(FRAME_CONTINUATION, 0, 1, bytes(1024)));
      }
      return all;
    };
    return Stream.of(
        Arguments.of("DATA on stream 0", (Supplier<ByteBuf>) () -> frame(FRAME_DATA, 0, 0, bytes(4)), Http2Error.PROTOCOL_ERROR),
        Arguments.of("HEADERS on an even (server) stream id",
            (Supplier<ByteBuf>) () -> frame(FRAME_HEADERS, END_HEADERS | END_STREAM, 2, headerBlock(get("/"))), Http2Error.PROTOCOL_ERROR),
        Arguments.of("a WINDOW_UPDATE of zero on the connection",
            (Supplier<ByteBuf>) () -> frame(FRAME_WINDOW_UPDATE, 0, 0, Unpooled.buffer(4).writeInt(0)), Http2Error.PROTOCOL_ERROR),
        Arguments.of("a PING that is not 8 bytes", (Supplier<ByteBuf>) () -> frame(FRAME_PING, 0, 0, bytes(7)), Http2Error.FRAME_SIZE_ERROR),
        Arguments.of("a frame longer than SETTINGS_MAX_FRAME_SIZE",
            (Supplier<ByteBuf>) () -> frame(FRAME_DATA, 0, 1, bytes(20_000)), Http2Error.FRAME_SIZE_ERROR),
        Arguments.of("SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
            (Supplier<ByteBuf>) () -> frame(FRAME_SETTINGS, 0, 0, Unpooled.buffer(6).writeShort(0x4).writeInt(0x80000000)),
            Http2Error.FLOW_CONTROL_ERROR),
        Arguments.of("a CONTINUATION flood", continuationFlood, Http2Error.PROTOCOL_ERROR));
  }

  @ParameterizedTest(name = "{0} → GOAWAY {2}")
  @MethodSource("connectionErrors")
  void a_protocol_violation_ends_the_connection_with_goaway_and_its_rfc_error_code(
      String what, Supplier<ByteBuf> bad, Http2Error expected) throws Exception {
    try (RawClient offender = new RawClient(); RawClient other = new RawClient()) {
      offender.send(Unpooled.wrappedBuffer(preface(), bad.get()));

      assertThat(offender.saw("GOAWAY ")).as("a GOAWAY for %s; read: %s", what, offender.seen).isTrue();
      assertThat(offender.seen).as("the error code for %s", what).contains("GOAWAY " + expected);
      assertThat(offender.stream.closeFuture().await(10, TimeUnit.SECONDS)).as("the offender's tunnel ends").isTrue();
      assertThat(registry.counter("capstan_waypoint_connection_errors_total", "protocol", "http2", "error", expected.name()).count())
          .as("counted by error code").isEqualTo(1.0);

      // another client's connection goes on: its request gets the waypoint's answer (no endpoint: 503)
      other.send(Unpooled.wrappedBuffer(preface(), frame(FRAME_HEADERS, END_HEADERS | END_STREAM, 1, headerBlock(get("/ok")))));
      assertThat(other.saw("HEADERS 1 ")).isTrue();
      assertThat(other.seen).contains("HEADERS 1 503");
    }
  }

  @Test
  void a_first_request_on_stream_1_is_answered() throws Exception {
    try (RawClient client = new RawClient()) {
      client.send(Unpooled.wrappedBuffer(preface(), frame(FRAME_HEADERS, END_HEADERS | END_STREAM, 1, headerBlock(get("/first")))));

      assertThat(client.saw("HEADERS 1 ")).as("an answer on stream 1: %s", client.seen).isTrue();
      assertThat(client.seen).contains("HEADERS 1 503").noneMatch(s -> s.startsWith("GOAWAY"));
    }
  }

  @Test
  void an_oversized_head_gets_431_on_its_stream_and_the_connection_goes_on() throws Exception {
    try (RawClient client = new RawClient()) {
      Http2Headers big = get("/big").add("x-padding", "p".repeat(10_000)); // over the announced 8 KiB
      client.send(Unpooled.wrappedBuffer(preface(), frame(FRAME_HEADERS, END_HEADERS | END_STREAM, 1, headerBlock(big))));

      assertThat(client.saw("HEADERS 1 ")).as("an answer on stream 1").isTrue();
      assertThat(client.seen).contains("HEADERS 1 431").noneMatch(s -> s.startsWith("GOAWAY"));

      client.send(frame(FRAME_HEADERS, END_HEADERS | END_STREAM, 3, headerBlock(get("/next"))));
      assertThat(client.saw("HEADERS 3 ")).isTrue();
      assertThat(client.seen).contains("HEADERS 3 503");
    }
  }
}
