package dev.capstan.netlab.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.netlab.TwoNodeNetwork;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command lines Capstan's programs are started with, from shaded jars or from one class path. */
class LauncherTest {

  @Test
  void a_class_path_launch_names_the_main_class_and_opens_what_the_jars_manifests_open() {
    Launcher launcher = Launcher.classpath("/opt/capstan.jar", List.of("-Dlogback.configurationFile=x.xml"));

    List<String> argv = launcher.command(Launcher.Program.AGENT, List.of("run", "--config", "a.yaml"));

    assertThat(argv.get(0)).endsWith("/bin/java");
    assertThat(argv).containsSubsequence(TwoNodeNetwork.JVM_OPTIONS);
    assertThat(argv).containsAll(Launcher.OPENS);
    assertThat(argv).containsSubsequence("-Dlogback.configurationFile=x.xml", "-cp", "/opt/capstan.jar",
        "dev.capstan.nodeagent.NodeAgentMain", "run", "--config", "a.yaml");
  }

  @Test
  void a_jar_launch_runs_the_programs_jar_and_a_missing_jar_says_how_to_build_it(@TempDir Path dir) throws Exception {
    Map<Launcher.Program, Path> jars = new EnumMap<>(Launcher.Program.class);
    for (Launcher.Program p : Launcher.Program.values()) {
      jars.put(p, Files.createFile(dir.resolve(p.name().toLowerCase() + ".jar")));
    }
    jars.put(Launcher.Program.WAYPOINT, dir.resolve("missing.jar"));
    Launcher launcher = Launcher.jars(jars);

    assertThat(launcher.command(Launcher.Program.REDIRECT, List.of("run")))
        .containsSubsequence("-jar", dir.resolve("redirect.jar").toString(), "run")
        .doesNotContainAnyElementsOf(Launcher.OPENS);
    assertThatThrownBy(() -> launcher.command(Launcher.Program.WAYPOINT, List.of("run")))
        .hasMessageContaining("missing.jar does not exist: build it first");
    assertThatThrownBy(() -> Launcher.jars(Map.of(Launcher.Program.AGENT, dir.resolve("agent.jar"))))
        .hasMessageContaining("no jar given for CONTROLLER");
  }
}
