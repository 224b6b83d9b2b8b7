package dev.kiln.reliability;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Campaign 6: checkpoints. Crafted and mutated files (must fail with a CheckpointException naming the
 * file and leave every variable unchanged); child JVMs killed with SIGKILL mid-save (a restore gives a
 * whole generation; stray .tmp files are counted); saves while three threads train (a == b).
 */
public final class Checkpoints {
  private Checkpoints() {}

  /** Arguments name the parts to run (crafted, kill, concurrent); none: all three. */
  public static void main(String[] args) throws Exception {
    java.util.Set<String> parts = args.length == 0 ? java.util.Set.of("crafted", "kill", "concurrent") : java.util.Set.of(args);
    Campaign campaign = new Campaign("checkpoints");
    Path dir = Files.createTempDirectory("kiln-reliability-ckpt-");
    try {
      long t0 = System.nanoTime();
      if (parts.contains("crafted")) {
      Check crafted = campaign.check("ckpt: crafted/mutated files; variables unchanged after failure");
      new CheckpointFuzz(dir).run(crafted, Campaign.scaled(2_000, 100));
      crafted.note(String.format("%.1f s", (System.nanoTime() - t0) / 1e9));
      }

      t0 = System.nanoTime();
      if (parts.contains("kill")) {
      int children = Campaign.scaled(20, 3);
      Check kills = campaign.check("ckpt: " + children + " saving JVMs SIGKILLed; restore = whole generation");
      Check leftovers = campaign.check("ckpt: .tmp files from kills cleaned by a later save/restore");
      CheckpointKill.run(kills, leftovers, dir, children, 8 << 20);
      kills.note(String.format("%.1f s; each checkpoint %d MB", (System.nanoTime() - t0) / 1e9, 32));
      }

      t0 = System.nanoTime();
      if (parts.contains("concurrent")) {
      int saves = Campaign.scaled(200, 20);
      Check concurrent = campaign.check("ckpt: " + saves + " saves while 3 threads train; restored a == b");
      ConcurrentSave.run(concurrent, dir, saves);
      concurrent.note(String.format("%.1f s", (System.nanoTime() - t0) / 1e9));
      }
    } finally {
      ReaderProbe.deleteTree(dir);
    }
    campaign.finish();
  }
}
