package dev.capstan.core.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.testing.EchoServer;
import dev.capstan.core.testing.SpliceProxy;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A proxy made of {@link SocketSplice} alone: each accepted connection is spliced to a socket
 * dialed to an upstream on the same event loop, as the agent does for same-node delivery and
 * passthrough. Real sockets on loopback, small watermarks so backpressure kicks in.
 */
class SocketSpliceTest {

  private final Transport transport = Transport.best();
  private EventLoopGroup group;
  private Channel proxy;
  private final CompletableFuture<SocketSplice.Result> result = new CompletableFuture<>();

  @BeforeEach
  void start() {
    group = transport.newGroup(1, "splice-test");
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close().syncUninterruptibly();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** Starts the proxy in front of {@code upstream}; returns its address. */
  private InetSocketAddress proxyTo(InetSocketAddress upstream) {
    WriteBufferWaterMark small = new WriteBufferWaterMark(8 * 1024, 32 * 1024);
    proxy = SpliceProxy.listen(group, transport, upstream,
        listen -> listen.childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, small),
        dial -> dial.option(ChannelOption.WRITE_BUFFER_WATER_MARK, small),
        () -> BufferAccount.Pair.UNLIMITED, result::complete);
    return (InetSocketAddress) proxy.localAddress();
  }

  @Test
  void bytes_in_equal_bytes_out_both_ways_under_backpressure() throws Exception {
    try (EchoServer echo = new EchoServer("127.0.0.1"); Socket client = new Socket()) {
      client.connect(proxyTo(echo.address()), 5000);
      client.setSoTimeout(20_000);
      byte[] payload = new byte[4 * 1024 * 1024];
      new Random(7).nextBytes(payload);
      CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> readAll(client));

      OutputStream out = client.getOutputStream();
      for (int off = 0; off < payload.length; off += 64 * 1024) {
        out.write(payload, off, 64 * 1024);
      }
      client.shutdownOutput();

      byte[] back = echoed.get(30, TimeUnit.SECONDS);
      assertThat(back.length).isEqualTo(payload.length);
      assertThat(MessageDigest.getInstance("SHA-256").digest(back))
          .isEqualTo(MessageDigest.getInstance("SHA-256").digest(payload));
      SocketSplice.Result r = result.get(10, TimeUnit.SECONDS);
      assertThat(r.fromFirst()).isEqualTo(payload.length);
      assertThat(r.fromSecond()).isEqualTo(payload.length);
      assertThat(r.aborted()).isFalse();
    }
  }

  @Test
  void end_of_input_from_the_client_reaches_the_server_which_may_still_answer() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1")); Socket client = new Socket()) {
      client.connect(proxyTo((InetSocketAddress) server.getLocalSocketAddress()), 5000);
      client.setSoTimeout(10_000);
      client.getOutputStream().write("question".getBytes());
      client.shutdownOutput();

      try (Socket accepted = server.accept()) {
        accepted.setSoTimeout(10_000);
        // The server reads to end of stream (the client's FIN came through), then answers.
        assertThat(new String(accepted.getInputStream().readAllBytes())).isEqualTo("question");
        accepted.getOutputStream().write("answer".getBytes());
      }
      assertThat(new String(readAll(client))).isEqualTo("answer");
      assertThat(result.get(10, TimeUnit.SECONDS).aborted()).isFalse();
    }
  }

  @Test
  void an_upstream_that_resets_ends_the_client_side_and_the_splice_reports_once_both_are_gone() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      Socket client = new Socket();
      client.connect(proxyTo((InetSocketAddress) server.getLocalSocketAddress()), 5000);
      client.setSoTimeout(10_000);
      client.getOutputStream().write("hello".getBytes());
      try (Socket accepted = server.accept()) {
        // Once the splice carries bytes (the client's arrive through it), reset.
        accepted.setSoTimeout(10_000);
        assertThat(new java.io.DataInputStream(accepted.getInputStream()).readNBytes(5)).isEqualTo("hello".getBytes());
        accepted.setSoLinger(true, 0); // close with RST
      }
      InputStream in = client.getInputStream();
      int read;
      try {
        read = in.read();
      } catch (IOException reset) {
        read = -1;
      }
      assertThat(read).as("the client sees the end (FIN or reset)").isEqualTo(-1);
      client.close();
      // Both sockets closed: reported once, nothing left open.
      SocketSplice.Result r = result.get(10, TimeUnit.SECONDS);
      assertThat(r.fromFirst()).isEqualTo(5);
    }
  }

  private static byte[] readAll(Socket s) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      s.getInputStream().transferTo(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
