package dev.kiln.reliability;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Campaign 5: mutated .npy files (the cli's reader, and {@code kiln run}) and mutated IDX files (the
 * training library's reader), plain and gzip. Run with a modest heap (-Xmx512m) so that an allocation
 * sized from an unchecked header shows as an OutOfMemoryError. Handled: the reader's own exception
 * naming the file, or a consistent value; never an Error or a raw JDK exception.
 */
public final class FileFuzz {
  private FileFuzz() {}

  public static void main(String[] args) throws Exception {
    Campaign campaign = new Campaign("file fuzzing (.npy, IDX)");
    Path dir = Files.createTempDirectory("kiln-reliability-files-");
    try {
      Check npy = campaign.check("npy: mutated files through the cli's NpyIO.read");
      Check cli = campaign.check("npy: kiln run --feed mutant: one line, names it, exit != 0");
      long t0 = System.nanoTime();
      try {
        new NpyFuzz(dir).run(npy, cli, Campaign.scaled(2_000, 100), Campaign.scaled(200, 20));
      } catch (ReflectiveOperationException e) {
        // The reader is package-private and reached by reflection; say so if it moved rather than stop.
        npy.record("harness: find dev.kiln.cli.NpyIO.read(Path)", Verdict.failed("harness cannot reach the reader", e.toString()));
      }
      npy.note(String.format("%.1f s", (System.nanoTime() - t0) / 1e9));
      Check idx = campaign.check("idx: mutated files (half gzip) through IdxReader.read");
      t0 = System.nanoTime();
      new IdxFuzz(dir).run(idx, Campaign.scaled(1_000, 50));
      idx.note(String.format("%.1f s", (System.nanoTime() - t0) / 1e9));
    } finally {
      ReaderProbe.deleteTree(dir);
    }
    campaign.finish();
  }
}
