package dev.capstan.waypoint.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which incoming traceparent values continue a trace and which start a new one. */
class TraceparentTest {

  private final AtomicLong next = new AtomicLong(0x1111);

  @ParameterizedTest(name = "{0} → continued {1}")
  @CsvSource(delimiter = '|', nullValues = "null", value = {
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 | true",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-00 | true",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future | true",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra | false",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 | false",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01 | false",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01 | false",
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01 | false",
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01 | false",
      "garbage | false",
      "null | false"})
  void a_valid_header_continues_its_trace_with_a_new_span_and_anything_else_starts_one(String incoming, boolean continued) {
    Traceparent t = Traceparent.next(incoming, next::getAndIncrement);

    assertThat(t.continued()).isEqualTo(continued);
    assertThat(t.header()).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
    assertThat(t.spanId()).isNotEqualTo("00f067aa0ba902b7");
    if (continued) {
      assertThat(t.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    } else {
      assertThat(t.traceId()).isNotEqualTo("4bf92f3577b34da6a3ce929d0e0e4736").isNotEqualTo("0".repeat(32));
      assertThat(t.flags()).isEqualTo("01");
    }
  }
}
