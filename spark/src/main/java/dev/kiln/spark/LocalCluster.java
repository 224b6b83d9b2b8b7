package dev.kiln.spark;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * A Spark cluster on this machine with real executor JVMs ({@code local-cluster[n,cores,memory]}), for
 * tests and examples, everything bound to 127.0.0.1. Spark's workers launch executors from the class
 * path in {@code $SPARK_HOME/jars}, which a Maven build has none of: the folder named by the environment
 * variable {@code SPARK_HOME} (read by the workers, so it must be set before the JVM starts) is filled
 * with links to this JVM's class path jars, and the class path's folders (e.g. {@code target/classes})
 * go on the executors' extra class path.
 */
public final class LocalCluster {
  /** Flags Kiln's runtime wants in every JVM: the Vector API module and native access for BLAS. */
  public static final String KILN_JVM_FLAGS =
      "-Xss4m --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

  private LocalCluster() {}

  /**
   * Starts a SparkSession on {@code executors} executor JVMs of one core and {@code memoryMb} MB each.
   * Needs {@code SPARK_LOCAL_IP=127.0.0.1} in the environment (Spark's master and worker web UIs and
   * the executors read the address to bind to from there, not from the configuration) and {@code
   * SPARK_HOME} naming a folder to make the Spark home in.
   */
  public static SparkSession start(String app, int executors, int memoryMb) {
    requireLoopback();
    String sparkHome = System.getenv("SPARK_HOME");
    if (sparkHome == null || sparkHome.isBlank()) {
      throw new IllegalStateException("LocalCluster: set SPARK_HOME in the environment to a folder for the executors'"
          + " jars (Spark's workers read it from there)");
    }
    Path home = sparkHome(Path.of(sparkHome).toAbsolutePath());
    List<String> dirs = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.isEmpty() && Files.isDirectory(Path.of(entry))) {
        dirs.add(Path.of(entry).toAbsolutePath().toString());
      }
    }
    SparkConf conf = loopback(new SparkConf())
        .setMaster(String.format(Locale.ROOT, "local-cluster[%d,1,%d]", executors, memoryMb))
        .setAppName(app)
        .set("spark.home", home.toString())
        // the launcher otherwise looks for a source build's launcher/target/scala-* to learn the version
        .set("spark.executorEnv.SPARK_SCALA_VERSION", scala.util.Properties.versionNumberString()
            .replaceAll("^(\\d+\\.\\d+).*", "$1"))
        .set("spark.executor.memory", memoryMb * 3 / 4 + "m")
        .set("spark.executor.extraClassPath", String.join(File.pathSeparator, dirs))
        .set("spark.executor.extraJavaOptions", KILN_JVM_FLAGS + " -XX:+UseSerialGC")
        .set("spark.local.dir", home.resolve("local").toString());
    return SparkSession.builder().config(conf).getOrCreate();
  }

  /** Settings that keep Spark's driver on 127.0.0.1, with no web UI and few threads. */
  public static SparkConf loopback(SparkConf conf) {
    return conf.set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.sql.shuffle.partitions", "2");
  }

  private static void requireLoopback() {
    String ip = System.getenv("SPARK_LOCAL_IP");
    if (!"127.0.0.1".equals(ip)) {
      throw new IllegalStateException("LocalCluster: set SPARK_LOCAL_IP=127.0.0.1 in the environment (it is "
          + (ip == null ? "unset" : "'" + ip + "'") + "): Spark's master, worker and executors bind to it");
    }
  }

  /** A Spark home whose jars/ links to this JVM's class path jars. */
  private static Path sparkHome(Path home) {
    try {
      Path jars = Files.createDirectories(home.resolve("jars"));
      for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
        Path p = Path.of(entry);
        if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
          Path link = jars.resolve(p.getFileName());
          if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createSymbolicLink(link, p.toAbsolutePath());
          }
        }
      }
      return home;
    } catch (IOException e) {
      throw new UncheckedIOException("LocalCluster: making a Spark home in " + home + ": " + e.getMessage(), e);
    }
  }
}
