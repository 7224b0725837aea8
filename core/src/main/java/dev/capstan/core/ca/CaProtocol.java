package dev.capstan.core.ca;

import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.CodecException;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.common.WireFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The gRPC shape of the CA service, wire-compatible with Istio's: service
 * {@code istio.v1.auth.IstioCertificateService}, unary method {@code CreateCertificate}, the
 * caller's credential in the {@code authorization: Bearer <token>} header. Both the controller
 * (server) and the node agents and waypoints (client) use these definitions.
 */
public final class CaProtocol {

  /** The service name, package {@code istio.v1.auth}. */
  public static final ServiceName SERVICE = ServiceName.create("istio.v1.auth", "IstioCertificateService");

  /** The one method. */
  public static final String METHOD = "CreateCertificate";

  /** The metadata header carrying the caller's credential. */
  public static final String AUTHORIZATION = "authorization";

  private static final String BEARER = "bearer ";

  /** Encodes requests (client side). */
  public static final GrpcMessageEncoder<CertificateRequest> REQUEST_ENCODER = encoder(CaCodec::encode);

  /** Decodes requests (server side); malformed bytes fail with a {@link CodecException} saying why. */
  public static final GrpcMessageDecoder<CertificateRequest> REQUEST_DECODER = decoder(CaCodec::decodeRequest);

  /** Encodes responses (server side). */
  public static final GrpcMessageEncoder<CertificateResponse> RESPONSE_ENCODER = encoder(CaCodec::encode);

  /** Decodes responses (client side). */
  public static final GrpcMessageDecoder<CertificateResponse> RESPONSE_DECODER = decoder(CaCodec::decodeResponse);

  /** The method as a server handles it. */
  public static final ServiceMethod<CertificateRequest, CertificateResponse> SERVER_METHOD =
      ServiceMethod.server(SERVICE, METHOD, RESPONSE_ENCODER, REQUEST_DECODER);

  /** The method as a client calls it. */
  public static final ServiceMethod<CertificateResponse, CertificateRequest> CLIENT_METHOD =
      ServiceMethod.client(SERVICE, METHOD, REQUEST_ENCODER, RESPONSE_DECODER);

  private CaProtocol() {}

  /** The {@code authorization} header value for a token. */
  public static String bearer(String token) {
    return "Bearer " + token;
  }

  /** The token of an {@code authorization: Bearer <token>} header, if it has that form. */
  public static Optional<String> bearerToken(String header) {
    if (header == null || header.length() <= BEARER.length()
        || !header.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
      return Optional.empty();
    }
    String token = header.substring(BEARER.length()).strip();
    return token.isEmpty() ? Optional.empty() : Optional.of(token);
  }

  private static <T> GrpcMessageEncoder<T> encoder(Function<T, byte[]> encode) {
    return new GrpcMessageEncoder<>() {
      @Override
      public GrpcMessage encode(T message, WireFormat format) {
        if (format != WireFormat.PROTOBUF) {
          throw new CodecException("the CA service speaks protobuf only, not " + format);
        }
        return GrpcMessage.message("identity", WireFormat.PROTOBUF, Buffer.buffer(encode.apply(message)));
      }

      @Override
      public boolean accepts(WireFormat format) {
        return format == WireFormat.PROTOBUF;
      }
    };
  }

  private static <T> GrpcMessageDecoder<T> decoder(Function<byte[], T> decode) {
    return new GrpcMessageDecoder<>() {
      @Override
      public T decode(GrpcMessage message) {
        if (message.format() != WireFormat.PROTOBUF) {
          throw new CodecException("the CA service speaks protobuf only, not " + message.format());
        }
        try {
          return decode.apply(message.payload().getBytes());
        } catch (MalformedMessageException e) {
          throw new CodecException(e.getMessage(), e);
        }
      }

      @Override
      public boolean accepts(WireFormat format) {
        return format == WireFormat.PROTOBUF;
      }
    };
  }
}
