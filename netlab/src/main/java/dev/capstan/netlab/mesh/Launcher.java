package dev.capstan.netlab.mesh;

import dev.capstan.netlab.TwoNodeNetwork;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * How {@link CapstanMesh} starts Capstan's programs: the shaded jar of each module ({@code java
 * -jar}, as the e2e tests do), or their main classes from one class path ({@code java -cp}, as
 * {@code capstan demo --transparent} does from the {@code capstan} jar).
 */
public final class Launcher {

  /** Capstan's programs, by main class. */
  public enum Program {
    CONTROLLER("dev.capstan.controller.ControllerMain"),
    AGENT("dev.capstan.nodeagent.NodeAgentMain"),
    REDIRECT("dev.capstan.redirect.RedirectMain"),
    WAYPOINT("dev.capstan.waypoint.WaypointMain");

    private final String mainClass;

    Program(String mainClass) {
      this.mainClass = mainClass;
    }

    public String mainClass() {
      return mainClass;
    }
  }

  /**
   * What the shaded jars' manifests say (Add-Opens, Add-Exports): Hazelcast and Netty read JDK
   * internals; a class path launch must say it on the command line.
   */
  static final List<String> OPENS = List.of(
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens=java.management/sun.management=ALL-UNNAMED",
      "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
      "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED");

  private final Map<Program, Path> jars;
  private final String classpath;
  private final List<String> jvmOptions;

  private Launcher(Map<Program, Path> jars, String classpath, List<String> jvmOptions) {
    this.jars = jars;
    this.classpath = classpath;
    this.jvmOptions = List.copyOf(jvmOptions);
  }

  /** Each program from its shaded jar; every program needs an entry. */
  public static Launcher jars(Map<Program, Path> jars) {
    Map<Program, Path> copy = new EnumMap<>(Program.class);
    copy.putAll(jars);
    for (Program p : Program.values()) {
      if (!copy.containsKey(p)) {
        throw new IllegalArgumentException("no jar given for " + p);
      }
    }
    return new Launcher(copy, null, List.of());
  }

  /**
   * Every program by its main class from {@code classpath} (one that holds all four, e.g. the
   * {@code capstan} jar), with {@code jvmOptions} after the usual ones (a logging config, say).
   */
  public static Launcher classpath(String classpath, List<String> jvmOptions) {
    if (classpath.isBlank()) {
      throw new IllegalArgumentException("classpath is empty");
    }
    return new Launcher(null, classpath, jvmOptions);
  }

  /** The command line that runs {@code program} with {@code args}. */
  public List<String> command(Program program, List<String> args) {
    List<String> argv = new ArrayList<>();
    argv.add(TwoNodeNetwork.javaBinary());
    argv.addAll(TwoNodeNetwork.JVM_OPTIONS);
    if (jars != null) {
      Path jar = jars.get(program);
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException(jar + " does not exist: build it first (./mvnw -B -pl e2e -am verify builds it)");
      }
      argv.add("-jar");
      argv.add(jar.toString());
    } else {
      argv.addAll(OPENS);
      argv.addAll(jvmOptions);
      argv.add("-cp");
      argv.add(classpath);
      argv.add(program.mainClass());
    }
    argv.addAll(args);
    return argv;
  }
}
