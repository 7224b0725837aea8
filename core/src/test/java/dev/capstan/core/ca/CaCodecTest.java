package dev.capstan.core.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Struct;
import com.google.protobuf.StructProto;
import com.google.protobuf.Value;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.CodecException;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.WireFormat;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CaCodecTest {

  private static final String CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";

  @Test
  void request_survives_a_round_trip() {
    CertificateRequest request = new CertificateRequest(CSR, 86_400, Map.of("ClusterID", "Kubernetes", "x", "ü"));

    assertThat(CaCodec.decodeRequest(CaCodec.encode(request))).isEqualTo(request);
  }

  @Test
  void response_survives_a_round_trip_in_order() {
    CertificateResponse response = new CertificateResponse(List.of("leaf", "intermediate", "root"));

    assertThat(CaCodec.decodeResponse(CaCodec.encode(response))).isEqualTo(response);
  }

  @Test
  void empty_messages_encode_to_no_bytes_and_decode_to_defaults() {
    assertThat(CaCodec.encode(CertificateRequest.of("", 0))).isEmpty();
    assertThat(CaCodec.decodeRequest(new byte[0])).isEqualTo(CertificateRequest.of("", 0));
    assertThat(CaCodec.decodeResponse(new byte[0]).certChainPem()).isEmpty();
  }

  @Test
  void request_bytes_built_field_by_field_decode() {
    byte[] csr = "abc".getBytes(StandardCharsets.US_ASCII);
    byte[] bytes = {
      0x0a, 3, csr[0], csr[1], csr[2], // field 1, length-delimited, "abc"
      0x18, (byte) 0x80, (byte) 0xa3, 0x05, // field 3, varint 86400
    };

    assertThat(CaCodec.decodeRequest(bytes)).isEqualTo(CertificateRequest.of("abc", 86_400));
  }

  @Test
  void response_bytes_built_field_by_field_decode() {
    // field 200, wire type 2: tag 1602 = varint c2 0c
    byte[] bytes = {(byte) 0xc2, 0x0c, 1, 'a', (byte) 0xc2, 0x0c, 1, 'b'};

    assertThat(CaCodec.decodeResponse(bytes).certChainPem()).containsExactly("a", "b");
  }

  @Test
  void request_matches_istio_schema_read_by_protobuf_itself() throws Exception {
    Descriptor schema = istioSchema().findMessageTypeByName("IstioCertificateRequest");
    CertificateRequest request = new CertificateRequest(CSR, 3600, Map.of("ImpersonatedIdentity", "spiffe://x/ns/a/sa/b"));

    DynamicMessage parsed = DynamicMessage.parseFrom(schema, CaCodec.encode(request));

    assertThat(parsed.getField(schema.findFieldByName("csr"))).isEqualTo(CSR);
    assertThat(parsed.getField(schema.findFieldByName("validity_duration"))).isEqualTo(3600L);
    Struct metadata = Struct.parseFrom(((com.google.protobuf.Message) parsed.getField(schema.findFieldByName("metadata"))).toByteString());
    assertThat(metadata.getFieldsOrThrow("ImpersonatedIdentity").getStringValue()).isEqualTo("spiffe://x/ns/a/sa/b");
  }

  @Test
  void response_written_by_protobuf_itself_decodes() throws Exception {
    Descriptor schema = istioSchema().findMessageTypeByName("IstioCertificateResponse");
    DynamicMessage message = DynamicMessage.newBuilder(schema)
        .addRepeatedField(schema.findFieldByName("cert_chain"), "leaf")
        .addRepeatedField(schema.findFieldByName("cert_chain"), "root")
        .build();

    assertThat(CaCodec.decodeResponse(message.toByteArray()).certChainPem()).containsExactly("leaf", "root");
  }

  @Test
  void unknown_fields_and_unexpected_wire_types_are_skipped() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeInt64(2, 7); // unknown varint
    out.writeString(1, CSR);
    out.writeFixed64(9, 1L); // unknown fixed64
    out.writeFixed32(10, 1); // unknown fixed32
    out.writeString(99, "future field"); // unknown length-delimited
    out.writeString(3, "not a varint"); // known number, wrong wire type
    out.writeInt64(3, 60);
    out.writeTag(11, 3); // unknown group: start, a field, end
    out.writeString(1, "in a group");
    out.writeTag(11, 4);
    out.flush();

    assertThat(CaCodec.decodeRequest(bytes.toByteArray())).isEqualTo(CertificateRequest.of(CSR, 60));
  }

  @Test
  void metadata_keeps_strings_numbers_and_bools_and_drops_nested_values() throws Exception {
    Struct struct = Struct.newBuilder()
        .putFields("s", Value.newBuilder().setStringValue("v").build())
        .putFields("n", Value.newBuilder().setNumberValue(42).build())
        .putFields("f", Value.newBuilder().setNumberValue(1.5).build())
        .putFields("b", Value.newBuilder().setBoolValue(true).build())
        .putFields("nested", Value.newBuilder().setStructValue(Struct.getDefaultInstance()).build())
        .build();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeMessage(4, struct);
    out.flush();

    assertThat(CaCodec.decodeRequest(bytes.toByteArray()).metadata())
        .isEqualTo(Map.of("s", "v", "n", "42", "f", "1.5", "b", "true"));
  }

  @Test
  void truncated_request_is_refused_with_a_reason() {
    byte[] bytes = {0x0a, 10, 'a', 'b'};

    assertThatThrownBy(() -> CaCodec.decodeRequest(bytes))
        .isInstanceOf(MalformedMessageException.class)
        .hasMessageStartingWith("malformed IstioCertificateRequest: ")
        .hasMessageContaining("truncated");
  }

  @Test
  void invalid_utf8_in_a_string_is_refused() {
    byte[] bytes = {0x0a, 2, (byte) 0xc3, (byte) 0x28};

    assertThatThrownBy(() -> CaCodec.decodeRequest(bytes))
        .isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("UTF-8");
  }

  @Test
  void runaway_varint_is_refused() {
    byte[] bytes = {0x18, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01};

    assertThatThrownBy(() -> CaCodec.decodeRequest(bytes)).isInstanceOf(MalformedMessageException.class);
  }

  @Test
  void field_number_zero_is_refused() {
    byte[] bytes = {0x02, 0x00};

    assertThatThrownBy(() -> CaCodec.decodeResponse(bytes))
        .isInstanceOf(MalformedMessageException.class)
        .hasMessageStartingWith("malformed IstioCertificateResponse: ");
  }

  @Test
  void malformed_metadata_struct_is_refused() {
    byte[] bytes = {0x22, 2, 0x0a, 5};

    assertThatThrownBy(() -> CaCodec.decodeRequest(bytes)).isInstanceOf(MalformedMessageException.class);
  }

  @Test
  void grpc_decoder_turns_malformed_bytes_into_a_codec_exception_with_the_reason() {
    GrpcMessage message = GrpcMessage.message("identity", WireFormat.PROTOBUF, Buffer.buffer(new byte[] {0x0a, 10}));

    assertThatThrownBy(() -> CaProtocol.REQUEST_DECODER.decode(message))
        .isInstanceOf(CodecException.class)
        .hasMessageStartingWith("malformed IstioCertificateRequest");
  }

  @Test
  void grpc_codecs_speak_protobuf_only() {
    assertThat(CaProtocol.REQUEST_ENCODER.accepts(WireFormat.JSON)).isFalse();
    assertThat(CaProtocol.RESPONSE_DECODER.accepts(WireFormat.PROTOBUF)).isTrue();
    GrpcMessage encoded = CaProtocol.RESPONSE_ENCODER.encode(new CertificateResponse(List.of("a")), WireFormat.PROTOBUF);
    assertThat(CaProtocol.RESPONSE_DECODER.decode(encoded).certChainPem()).containsExactly("a");
  }

  @Test
  void service_path_is_istios() {
    assertThat(CaProtocol.SERVER_METHOD.fullMethodName())
        .isEqualTo("istio.v1.auth.IstioCertificateService/CreateCertificate");
    assertThat(CaProtocol.SERVICE.pathOf(CaProtocol.METHOD))
        .isEqualTo("/istio.v1.auth.IstioCertificateService/CreateCertificate");
  }

  @Test
  void bearer_token_is_read_from_the_authorization_header() {
    assertThat(CaProtocol.bearerToken(CaProtocol.bearer("t0k"))).contains("t0k");
    assertThat(CaProtocol.bearerToken("bearer t0k")).contains("t0k");
    assertThat(CaProtocol.bearerToken("Basic dXNlcg==")).isEmpty();
    assertThat(CaProtocol.bearerToken("Bearer ")).isEmpty();
    assertThat(CaProtocol.bearerToken(null)).isEmpty();
  }

  /** Istio's {@code security/v1alpha1/ca.proto}, built as a descriptor so protobuf checks our bytes. */
  private static FileDescriptor istioSchema() throws Exception {
    FileDescriptorProto file = FileDescriptorProto.newBuilder()
        .setName("ca.proto")
        .setPackage("istio.v1.auth")
        .setSyntax("proto3")
        .addDependency("google/protobuf/struct.proto")
        .addMessageType(DescriptorProto.newBuilder()
            .setName("IstioCertificateRequest")
            .addField(field("csr", 1, FieldDescriptorProto.Type.TYPE_STRING))
            .addField(field("validity_duration", 3, FieldDescriptorProto.Type.TYPE_INT64))
            .addField(field("metadata", 4, FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(".google.protobuf.Struct")))
        .addMessageType(DescriptorProto.newBuilder()
            .setName("IstioCertificateResponse")
            .addField(field("cert_chain", 200, FieldDescriptorProto.Type.TYPE_STRING)
                .setLabel(FieldDescriptorProto.Label.LABEL_REPEATED)))
        .build();
    return FileDescriptor.buildFrom(file, new FileDescriptor[] {StructProto.getDescriptor()});
  }

  private static FieldDescriptorProto.Builder field(String name, int number, FieldDescriptorProto.Type type) {
    return FieldDescriptorProto.newBuilder()
        .setName(name)
        .setNumber(number)
        .setType(type)
        .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
  }
}
