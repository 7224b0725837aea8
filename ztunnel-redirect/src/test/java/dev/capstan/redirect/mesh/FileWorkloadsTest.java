package dev.capstan.redirect.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileWorkloadsTest {

  private static final String ONE = """
      version: "1"
      workloads:
        - {uid: a, name: web, namespace: shop, ips: ["10.1.0.2"], node: node1}
      services: []
      """;

  @Test
  void changed_file_is_reread_and_listeners_told(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("mesh.yaml"), ONE);
    FileWorkloads source = new FileWorkloads(file);
    AtomicInteger changes = new AtomicInteger();
    source.onChange(changes::incrementAndGet);

    source.refresh();
    assertThat(changes).hasValue(0);
    Files.writeString(file, ONE.replace("[\"10.1.0.2\"]", "[\"10.1.0.2\", \"10.1.0.4\"]"));
    source.refresh();

    assertThat(changes).hasValue(1);
    assertThat(source.workloads().orElseThrow()).extracting(Workload::ips).containsExactly(java.util.List.of("10.1.0.2", "10.1.0.4"));
  }

  @Test
  void broken_file_keeps_the_last_workloads(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("mesh.yaml"), ONE);
    FileWorkloads source = new FileWorkloads(file);

    Files.writeString(file, "workloads: [{uid: a, ips: [not-an-ip]}]\n");
    source.refresh();

    assertThat(source.workloads().orElseThrow()).extracting(Workload::name).containsExactly("web");
  }
}
