package dev.kiln.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Prints the rows the campaigns appended to a summary file as one table: a line per check with tried,
 * handled and failed counts, and under it each failure category with its count and first examples.
 * Exits 1 when any check failed, 3 when a campaign wrote no rows at all.
 */
public final class Summary {
  private static final int EXAMPLES = 3;

  private Summary() {}

  public static void main(String[] args) throws IOException {
    List<String> lines = Files.readAllLines(Path.of(args[0]));
    int expectedCampaigns = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    System.out.println();
    System.out.println("Heap checks fail above " + Soak.TOLERANCE_MB + " MB of growth after GC; see each campaign's log for the notes.");
    System.out.printf("%-66s %9s %9s %8s%n", "check", "tried", "handled", "failed");
    System.out.println("-".repeat(95));
    int failedChecks = 0;
    int campaigns = 0;
    long tried = 0;
    long handled = 0;
    StringBuilder times = new StringBuilder();
    for (String line : lines) {
      String[] f = line.split("\t", -1);
      switch (f[0]) {
        case "CHECK" -> {
          int failed = Integer.parseInt(f[5]);
          failedChecks += failed > 0 ? 1 : 0;
          tried += Long.parseLong(f[3]);
          handled += Long.parseLong(f[4]);
          System.out.printf("%-66s %9s %9s %8s%n", f[2], f[3], f[4], failed == 0 ? "0" : f[5]);
        }
        case "FAIL" -> {
          System.out.printf("    %5sx %s%n", f[3], f[2]);
          for (int i = 4; i < Math.min(f.length, 4 + EXAMPLES); i++) {
            System.out.println("           e.g. " + f[i]);
          }
        }
        case "TIME" -> {
          campaigns++;
          times.append(times.length() == 0 ? "" : ", ").append(f[1]).append(' ').append(f[2]).append(" s");
        }
        default -> { }
      }
    }
    System.out.println("-".repeat(95));
    System.out.printf("%-66s %9d %9d %8d%n", "all checks", tried, handled, tried - handled);
    System.out.println("campaign times: " + times);
    if (campaigns < expectedCampaigns) {
      System.out.println("INCOMPLETE: " + (expectedCampaigns - campaigns) + " campaign(s) did not finish (see their output above)");
      System.exit(3);
    }
    System.exit(failedChecks > 0 ? 1 : 0);
  }
}
