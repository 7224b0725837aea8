package dev.capstan.core.hbone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.BufferAccount;
import dev.capstan.core.io.Transport;
import dev.capstan.core.testing.TestCa;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.core.tls.TlsEngine;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** DATA that waits in HBONE streams is charged while it waits, and released once read or dropped. */
class QueuedDataTest {

  private static final int CHUNK = 16 * 1024;

  private final TestCa ca = new TestCa();
  private final CertifiedKey server = ca.leaf("shop", "backend");
  private final CertifiedKey client = ca.leaf("shop", "frontend");
  private final Counting serverQueue = new Counting();
  private final Counting clientQueue = new Counting();
  private final CompletableFuture<Http2StreamChannel> serverStream = new CompletableFuture<>();
  private EventLoopGroup group;
  private Channel listener;
  private Transport transport;
  private HboneConnection connection;

  /** An account that only counts. */
  static final class Counting implements BufferAccount {
    final AtomicLong held = new AtomicLong();
    final AtomicLong charged = new AtomicLong();
    final AtomicBoolean closed = new AtomicBoolean();

    @Override
    public boolean charge(int bytes) {
      held.addAndGet(bytes);
      charged.addAndGet(bytes);
      return true;
    }

    @Override
    public void release(int bytes) {
      assertThat(held.addAndGet(-bytes)).as("released more than charged").isGreaterThanOrEqualTo(0);
    }

    @Override
    public boolean mayRead() {
      return true;
    }

    @Override
    public void onWake(Runnable wake) {}

    @Override
    public void close() {
      closed.set(true);
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    transport = Transport.best();
    group = transport.newGroup(1, "queued-io");
    MeshTls tls = ca.tls(TlsEngine.AUTO);
    SslContext serverTls = tls.server(server);
    HboneServer.Acceptor acceptor = new HboneServer.Acceptor() {
      @Override
      public void accept(HboneServer.Request request) {
        // Answer 200 and read nothing: what the client sends waits in the stream. A reset closes
        // the stream, as the splice does.
        request.stream().pipeline().addLast(new ChannelInboundHandlerAdapter() {
          @Override
          public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame) {
              ctx.close();
            }
            ctx.fireUserEventTriggered(evt);
          }
        });
        HboneStreams.accept(request.stream());
        serverStream.complete(request.stream());
      }

      @Override
      public void refused(HboneServer.Refusal refusal) {}

      @Override
      public BufferAccount queueAccount(SpiffeId local) {
        assertThat(local).isEqualTo(server.identity());
        return serverQueue;
      }
    };
    listener = new ServerBootstrap().group(group).channel(transport.serverChannel())
        .childHandler(new HboneServer(local -> Optional.of(new HboneServer.ServerTls(server.identity(), serverTls)),
            HboneSettings.defaults(), acceptor))
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    Bootstrap b = new Bootstrap().group(group).channel(transport.socketChannel());
    var pending = HboneConnection.connect(b, (InetSocketAddress) listener.localAddress(), tls.client(client),
        server.identity(), HboneSettings.defaults(), clientQueue);
    assertThat(pending.await(10, TimeUnit.SECONDS)).isTrue();
    connection = pending.getNow();
  }

  @AfterEach
  void tearDown() throws Exception {
    listener.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  private Http2StreamChannel open() throws Exception {
    var f = connection.channel().eventLoop().submit(() -> connection.open("10.0.0.1:8080", Map.of())).get();
    assertThat(f.await(10, TimeUnit.SECONDS)).isTrue();
    return f.getNow();
  }

  private static void send(Http2StreamChannel stream, int chunks) {
    stream.eventLoop().execute(() -> {
      for (int i = 0; i < chunks; i++) {
        stream.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[CHUNK]), false));
      }
      stream.flush();
    });
  }

  /** Reads the stream from now on, discarding its DATA. */
  private static void drain(Http2StreamChannel stream) {
    stream.eventLoop().execute(() -> {
      stream.pipeline().addLast(new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          ReferenceCountUtil.release(msg);
        }
      });
      stream.config().setAutoRead(true);
    });
  }

  private static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
    Instant end = Instant.now().plus(Duration.ofSeconds(10));
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(end)) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(5);
    }
  }

  @Test
  void data_waiting_in_a_stream_is_charged_until_the_stream_reads_it() throws Exception {
    Http2StreamChannel stream = open();
    send(stream, 20);
    eventually(() -> serverQueue.held.get() == 20L * CHUNK, "the 320 KiB sent wait in the server's stream");
    assertThat(QueuedData.queuedBytes(stream.parent())).isZero();

    drain(serverStream.get(10, TimeUnit.SECONDS));

    eventually(() -> serverQueue.held.get() == 0, "the stream has read everything");
    assertThat(serverQueue.charged.get()).isEqualTo(20L * CHUNK);
    assertThat(serverQueue.closed).isFalse();
  }

  @Test
  void data_left_in_a_reset_stream_is_released() throws Exception {
    Http2StreamChannel stream = open();
    send(stream, 10);
    eventually(() -> serverQueue.held.get() == 10L * CHUNK, "the data waits in the server's stream");

    stream.close().sync(); // RST_STREAM: the server's stream closes with its data unread

    eventually(() -> serverQueue.held.get() == 0, "the reset stream's data is released");
    assertThat(serverQueue.closed).isFalse();
  }

  @Test
  void the_client_side_charges_what_the_server_sent_and_it_has_not_read() throws Exception {
    Http2StreamChannel stream = open();
    Http2StreamChannel atServer = serverStream.get(10, TimeUnit.SECONDS);
    atServer.eventLoop().execute(() -> {
      for (int i = 0; i < 8; i++) {
        atServer.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[CHUNK]), false));
      }
      atServer.flush();
    });
    eventually(() -> clientQueue.held.get() == 8L * CHUNK, "the answer waits in the client's stream");

    drain(stream);

    eventually(() -> clientQueue.held.get() == 0, "the client has read the answer");
  }

  @Test
  void closing_the_connection_releases_everything_and_closes_the_accounts() throws Exception {
    Http2StreamChannel stream = open();
    send(stream, 6);
    eventually(() -> serverQueue.held.get() == 6L * CHUNK, "the data waits in the server's stream");

    connection.channel().close().sync();

    eventually(() -> serverQueue.closed.get() && clientQueue.closed.get(), "both accounts are closed");
    eventually(() -> serverQueue.held.get() == 0, "the server's queue is released");
    assertThat(clientQueue.held.get()).isZero();
  }

  @Test
  void a_stream_that_stopped_reading_is_closed_with_its_connection() throws Exception {
    Http2StreamChannel stream = open();
    send(stream, 4);
    eventually(() -> serverQueue.held.get() == 4L * CHUNK, "the data waits in the server's unread stream");
    Http2StreamChannel atServer = serverStream.get(10, TimeUnit.SECONDS);

    connection.channel().close().sync();

    // Netty alone leaves a stream with auto-read off and DATA queued open (and the DATA unreleased).
    assertThat(atServer.closeFuture().await(10, TimeUnit.SECONDS)).as("the server's stream closed").isTrue();
    assertThat(stream.closeFuture().await(10, TimeUnit.SECONDS)).as("the client's stream closed").isTrue();
  }

  @Test
  void frames_read_by_the_stream_pass_through_unchanged() throws Exception {
    Http2StreamChannel stream = open();
    Http2StreamChannel atServer = serverStream.get(10, TimeUnit.SECONDS);
    CompletableFuture<Integer> firstByte = new CompletableFuture<>();
    atServer.eventLoop().execute(() -> {
      atServer.pipeline().addLast(new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          if (msg instanceof Http2DataFrame data && data.content().isReadable()) {
            firstByte.complete((int) data.content().getByte(data.content().readerIndex()));
          }
          ReferenceCountUtil.release(msg);
        }
      });
      atServer.config().setAutoRead(true);
    });
    stream.eventLoop().execute(() -> stream.writeAndFlush(
        new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[] {42, 1, 2}), false)));

    assertThat(firstByte.get(10, TimeUnit.SECONDS)).isEqualTo(42);
    eventually(() -> serverQueue.held.get() == 0, "nothing stays charged");
    assertThat(serverQueue.charged.get()).isEqualTo(3);
  }
}
