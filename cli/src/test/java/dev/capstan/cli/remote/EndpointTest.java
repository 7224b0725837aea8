package dev.capstan.cli.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EndpointTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "127.0.0.1:15000, http://127.0.0.1:15000/config_dump, 127.0.0.1:15000",
      "localhost:15000, http://localhost:15000/config_dump, localhost:15000",
      "http://127.0.0.1:15020/, http://127.0.0.1:15020/config_dump, 127.0.0.1:15020",
      "http://127.0.0.1:15020/stats/prometheus, http://127.0.0.1:15020/stats/prometheus, 127.0.0.1:15020",
      "[::1]:15000, http://[::1]:15000/config_dump, [::1]:15000",
  })
  void addresses_and_urls_give_the_url_to_get(String text, String url, String address) {
    Endpoint e = Endpoint.parse(text);
    assertThat(e.uri("/config_dump")).isEqualTo(URI.create(url));
    assertThat(e.address()).isEqualTo(address);
  }

  @ParameterizedTest(name = "[{index}] {1}")
  @CsvSource({
      "'', an empty address",
      "foo, 'foo' has no port",
      "127.0.0.1:99999, has no port",
      "https://127.0.0.1:15000, only http:// endpoints",
      "http://:15000, has no host",
  })
  void bad_addresses_are_refused_with_what_a_good_one_looks_like(String text, String reason) {
    assertThatThrownBy(() -> Endpoint.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason);
  }
}
