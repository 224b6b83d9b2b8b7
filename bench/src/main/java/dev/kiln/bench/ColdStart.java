package dev.kiln.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cold-start benchmarks: every measurement in a fresh JVM, as users run Kiln (start, train a few
 * hundred or thousand steps, stop), printed as RESULT lines in the anchors' format.
 * {@code ColdStart [w1|windows|mnist|all] [runs]}:
 * <ul>
 *   <li>{@code w1}: W1 as the anchors time it ({@link ColdStep}: 100 warm-up steps in a throw-away
 *       Session, the median of 500 steps in a fresh one); the median over the runs.
 *   <li>{@code windows}: 100 warm-up steps, then 20,000 W1 steps in 500-step windows; per run the worst
 *       window after the first 1,000 timed steps over the best window (the anchors' {@code TfBench
 *       w1windows}); the median ratio over the runs.
 *   <li>{@code mnist}: {@code ./example MnistClassifier} (from the project root, the working directory):
 *       its training time (first step to last evaluation), first epoch and later epochs' median.
 * </ul>
 * Child JVMs get this JVM's java, class path and {@code -Dkiln.bench.jvmArgs}.
 */
public final class ColdStart {
  private ColdStart() {}

  static final int WINDOW_STEPS = 20_000;
  /** Windows before this many timed steps are warm-up, left out of the worst/best ratio. */
  static final int WINDOWS_SKIPPED_STEPS = 1_000;
  private static final Pattern TRAINING =
      Pattern.compile("training time: ([\\d.]+) s \\(first epoch ([\\d.]+) s, later epochs median ([\\d.]+) s\\)");

  public static void main(String[] args) {
    String what = args.length > 0 ? args[0] : "all";
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    List<String> lines = new ArrayList<>();
    if (what.equals("w1") || what.equals("all")) {
      lines.add(w1(runs));
    }
    if (what.equals("windows") || what.equals("all")) {
      lines.add(windows(runs));
    }
    if (what.equals("mnist") || what.equals("all")) {
      lines.addAll(mnist(runs));
    }
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("ColdStart " + what + ": expected w1, windows, mnist or all");
    }
    System.out.println();
    lines.forEach(System.out::println);
  }

  private static String w1(int runs) {
    double[] medians = new double[runs];
    String losses = "";
    for (int r = 0; r < runs; r++) {
      String out = java(ColdStep.class.getName(), "100", "500");
      medians[r] = Double.parseDouble(field(out, "median"));
      losses = lineStarting(out, "loss0");
      System.out.printf(Locale.ROOT, "w1 run %d: median %.4f ms/step%n", r + 1, medians[r]);
    }
    return result("W1", "kiln:cold", median(medians), "ms/step", String.format(Locale.ROOT,
        "fresh JVM per run, 100 warm-up steps in a throw-away Session then the median of 500 (the anchors' protocol);"
            + " median of %d runs %s; %s", runs, list(medians), losses));
  }

  private static String windows(int runs) {
    double[] ratios = new double[runs];
    double[] best = new double[runs];
    double[] worst = new double[runs];
    for (int r = 0; r < runs; r++) {
      String out = java(ColdStep.class.getName(), "100", Integer.toString(WINDOW_STEPS));
      double[] w = Arrays.stream(lineStarting(out, "windows").substring("windows".length()).trim().split(" "))
          .mapToDouble(Double::parseDouble).toArray();
      double[] after = Arrays.copyOfRange(w, WINDOWS_SKIPPED_STEPS / ColdStep.WINDOW, w.length);
      best[r] = Arrays.stream(w).min().orElseThrow();
      worst[r] = Arrays.stream(after).max().orElseThrow();
      ratios[r] = worst[r] / best[r];
      System.out.printf(Locale.ROOT, "windows run %d: best %.4f, worst after step %d %.4f ms (%.2fx); all:%s%n", r + 1,
          best[r], WINDOWS_SKIPPED_STEPS, worst[r], ratios[r], list(w));
    }
    return result("W1windows", "kiln:cold", median(ratios), "worst/best", String.format(Locale.ROOT,
        "fresh JVM per run, 100 warm-up steps then %d in %d-step windows; worst window after step %d over the best;"
            + " median of %d runs %s; best ms %s; worst ms %s", WINDOW_STEPS, ColdStep.WINDOW, WINDOWS_SKIPPED_STEPS,
        runs, list(ratios), list(best), list(worst)));
  }

  private static List<String> mnist(int runs) {
    double[] total = new double[runs];
    double[] first = new double[runs];
    double[] later = new double[runs];
    for (int r = 0; r < runs; r++) {
      String out = run(List.of(Path.of("example").toAbsolutePath().toString(), "MnistClassifier"));
      Matcher m = TRAINING.matcher(out);
      if (!m.find()) {
        throw new IllegalStateException("./example MnistClassifier printed no training time line:\n" + out);
      }
      total[r] = Double.parseDouble(m.group(1));
      first[r] = Double.parseDouble(m.group(2));
      later[r] = Double.parseDouble(m.group(3));
      System.out.println("mnist run " + (r + 1) + ": " + m.group());
    }
    double[] ratio = new double[runs];
    for (int r = 0; r < runs; r++) {
      ratio[r] = first[r] / later[r];
    }
    return List.of(
        result("M1", "kiln", median(total), "s", String.format(Locale.ROOT,
            "./example MnistClassifier, first step to last evaluation; median of %d runs %s; first_epoch %s"
                + " later_epochs_median %s", runs, list(total), list(first), list(later))),
        result("M1-first-epoch", "kiln", median(ratio), "first/later",
            String.format(Locale.ROOT, "first epoch over the median of the later epochs; runs %s", list(ratio))));
  }

  /** Runs a main class of this class path in a fresh JVM with the Vector API module; its stdout. */
  private static String java(String main, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("--add-modules=jdk.incubator.vector");
    cmd.addAll(RunAll.benchJvmArgs());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main);
    cmd.addAll(Arrays.asList(args));
    return run(cmd);
  }

  private static String run(List<String> cmd) {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().merge("KILN_JAVA_OPTS", "-Dkiln.progress=false", (a, b) -> a + " " + b);
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int rc = p.waitFor();
      if (rc != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " exited with " + rc + ":\n" + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static String lineStarting(String out, String prefix) {
    return out.lines().filter(l -> l.startsWith(prefix)).findFirst()
        .orElseThrow(() -> new IllegalStateException("no line starting with '" + prefix + "' in:\n" + out));
  }

  private static String field(String out, String name) {
    return lineStarting(out, name + " ").substring(name.length() + 1).trim();
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  private static String list(double[] v) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      b.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.4g", v[i]));
    }
    return b.append(']').toString();
  }

  private static String result(String workload, String impl, double median, String unit, String notes) {
    return String.format(Locale.ROOT, "RESULT\t%s\t%s\t%.4f\t%s\t%s", workload, impl, median, unit, notes);
  }
}
