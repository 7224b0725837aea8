package dev.capstan.core.hbone;

import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;

/** Answers to CONNECT requests on the server side. */
public final class HboneStreams {

  private HboneStreams() {}

  /** Answers 200: the tunnel is open and the stream now carries the connection's bytes. */
  public static void accept(Http2StreamChannel stream) {
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
  }

  /** Answers with a failure status and ends the stream. */
  public static void refuse(Http2StreamChannel stream, int status) {
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(Integer.toString(status)), true))
        .addListener(ChannelFutureListener.CLOSE);
  }
}
