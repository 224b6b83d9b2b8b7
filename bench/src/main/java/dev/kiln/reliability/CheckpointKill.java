package dev.kiln.reliability;

import dev.kiln.runtime.Session;
import dev.kiln.train.Saver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Child JVMs save a large checkpoint in a loop and are killed with SIGKILL at seeded random moments;
 * after each kill a restore must give one whole generation: the last one the child reported saved, or
 * the one it was saving. Stray temporary files are counted after each kill, and again after one more
 * save and restore of the same path (which should clean them up).
 */
final class CheckpointKill {
  private CheckpointKill() {}

  static void run(Check kills, Check leftovers, Path dir, int children, int elements) throws Exception {
    Path ckpt = dir.resolve("model.ckpt");
    CheckpointWriter.Model m = CheckpointWriter.Model.of(elements);
    long last;
    try (Session s = new Session(m.g())) {
      s.run(m.init());
      s.assignVariables(m.generation(0));
      Saver.save(s, ckpt);
      last = 0;
    }
    Random rnd = new Random(31337);
    String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    for (int c = 0; c < children; c++) {
      long start = last + 1;
      ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-XX:+UseParallelGC", "--enable-native-access=ALL-UNNAMED",
          "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
          CheckpointWriter.class.getName(), ckpt.toString(), Long.toString(start), Integer.toString(elements));
      pb.redirectError(ProcessBuilder.Redirect.DISCARD);
      Process p = pb.start();
      AtomicLong reported = new AtomicLong(last);
      Object ready = new Object();
      boolean[] isReady = new boolean[1];
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
          for (String line; (line = r.readLine()) != null; ) {
            if (line.equals("ready")) {
              synchronized (ready) {
                isReady[0] = true;
                ready.notifyAll();
              }
            } else if (line.startsWith("saved ")) {
              reported.set(Long.parseLong(line.substring(6)));
            }
          }
        } catch (IOException e) {
          // the pipe closes when the child dies
        }
      });
      reader.start();
      synchronized (ready) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!isReady[0] && System.nanoTime() < deadline && p.isAlive()) {
          ready.wait(200);
        }
      }
      long delay = rnd.nextInt(3000);
      Thread.sleep(delay);
      p.destroyForcibly();
      p.waitFor();
      reader.join();
      long saw = reported.get();
      String input = "child " + c + " killed " + delay + " ms after ready, last reported save " + saw;
      Verdict v;
      try (Session s = new Session(m.g())) {
        Saver.restore(s, ckpt);
        String[] why = new String[1];
        long k = m.generationOf(s, why);
        if (k < 0) {
          v = Verdict.failed("restore gave a mix of generations", why[0]);
        } else if (k != saw && k != saw + 1) {
          v = Verdict.failed("restore gave a generation that was neither the last saved nor the next", "generation " + k);
        } else {
          v = Verdict.handled("generation " + k + (k == saw ? " (last reported)" : " (the one being saved)"));
          last = k;
        }
      } catch (Throwable t) {
        v = Verdict.failed("restore after SIGKILL failed", Classify.describe(t));
      }
      kills.record(input, v);
      long[] tmp = tmpFiles(dir);
      kills.note(String.format("after kill %d: %d .tmp file(s), %s", c, tmp[0], ReaderProbe.mb(tmp[1])));
    }
    long[] before = tmpFiles(dir);
    try (Session s = new Session(m.g())) {
      Saver.restore(s, ckpt);
      Saver.save(s, ckpt);
      Saver.restore(s, ckpt);
    }
    long[] after = tmpFiles(dir);
    String d = String.format("%d .tmp file(s) (%s) after %d kills; %d (%s) after one more restore, save and restore",
        before[0], ReaderProbe.mb(before[1]), children, after[0], ReaderProbe.mb(after[1]));
    leftovers.record("leftover .tmp files beside the checkpoint", after[0] == 0 ? Verdict.handled(d)
        : Verdict.failed("stray .tmp files are never cleaned up", d));
  }

  /** {count, bytes} of the .tmp files in {@code dir}. */
  private static long[] tmpFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> tmp = s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
      long bytes = 0;
      for (Path p : tmp) {
        bytes += Files.size(p);
      }
      return new long[] {tmp.size(), bytes};
    }
  }
}
