package dev.capstan.core.ca;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Protobuf encoding of Istio's CA messages, by hand (there is no protoc here):
 *
 * <pre>
 * message IstioCertificateRequest {
 *   string csr = 1;
 *   int64 validity_duration = 3;          // seconds
 *   google.protobuf.Struct metadata = 4;
 * }
 * message IstioCertificateResponse {
 *   repeated string cert_chain = 200;     // leaf, intermediates, root
 * }
 * </pre>
 *
 * <p>Decoding follows proto3: unknown fields (and known field numbers with an unexpected wire
 * type) are skipped, a repeated scalar field keeps its last value, strings must be valid UTF-8.
 * Of the metadata only string, number and bool values are kept (as text); nested structs, lists
 * and nulls are dropped.
 */
public final class CaCodec {

  private static final int LENGTH_DELIMITED = 2;
  private static final int VARINT = 0;

  static final int REQUEST_CSR = tag(1, LENGTH_DELIMITED);
  static final int REQUEST_VALIDITY = tag(3, VARINT);
  static final int REQUEST_METADATA = tag(4, LENGTH_DELIMITED);
  static final int RESPONSE_CERT_CHAIN = tag(200, LENGTH_DELIMITED);

  private CaCodec() {}

  /** The protobuf bytes of a request. */
  public static byte[] encode(CertificateRequest request) {
    return write(out -> {
      if (!request.csrPem().isEmpty()) {
        out.writeString(1, request.csrPem());
      }
      if (request.validitySeconds() != 0) {
        out.writeInt64(3, request.validitySeconds());
      }
      if (!request.metadata().isEmpty()) {
        Struct.Builder struct = Struct.newBuilder();
        request.metadata().forEach((k, v) -> struct.putFields(k, Value.newBuilder().setStringValue(v).build()));
        out.writeMessage(4, struct.build());
      }
    });
  }

  /** The protobuf bytes of a response. */
  public static byte[] encode(CertificateResponse response) {
    return write(out -> {
      for (String pem : response.certChainPem()) {
        out.writeString(200, pem);
      }
    });
  }

  /** Decodes a request; throws {@link MalformedMessageException} saying what is wrong. */
  public static CertificateRequest decodeRequest(byte[] bytes) {
    String csr = "";
    long validity = 0;
    Map<String, String> metadata = Map.of();
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    try {
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (tag == REQUEST_CSR) {
          csr = in.readStringRequireUtf8();
        } else if (tag == REQUEST_VALIDITY) {
          validity = in.readInt64();
        } else if (tag == REQUEST_METADATA) {
          metadata = metadata(Struct.parseFrom(in.readBytes()));
        } else if (!in.skipField(tag)) {
          throw new InvalidProtocolBufferException("unexpected end-group tag");
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedMessageException("malformed IstioCertificateRequest: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new MalformedMessageException("malformed IstioCertificateRequest: " + e, e);
    }
    return new CertificateRequest(csr, validity, metadata);
  }

  /** Decodes a response; throws {@link MalformedMessageException} saying what is wrong. */
  public static CertificateResponse decodeResponse(byte[] bytes) {
    List<String> chain = new ArrayList<>();
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    try {
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (tag == RESPONSE_CERT_CHAIN) {
          chain.add(in.readStringRequireUtf8());
        } else if (!in.skipField(tag)) {
          throw new InvalidProtocolBufferException("unexpected end-group tag");
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedMessageException("malformed IstioCertificateResponse: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new MalformedMessageException("malformed IstioCertificateResponse: " + e, e);
    }
    return new CertificateResponse(chain);
  }

  private static Map<String, String> metadata(Struct struct) {
    Map<String, String> out = new LinkedHashMap<>();
    struct.getFieldsMap().forEach((key, value) -> {
      switch (value.getKindCase()) {
        case STRING_VALUE -> out.put(key, value.getStringValue());
        case BOOL_VALUE -> out.put(key, Boolean.toString(value.getBoolValue()));
        case NUMBER_VALUE -> out.put(key, number(value.getNumberValue()));
        default -> { }
      }
    });
    return out;
  }

  private static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  private static int tag(int field, int wireType) {
    return field << 3 | wireType;
  }

  private interface Writer {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] write(Writer writer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      writer.write(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
