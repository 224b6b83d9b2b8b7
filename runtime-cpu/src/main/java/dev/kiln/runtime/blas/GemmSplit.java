package dev.kiln.runtime.blas;

import dev.kiln.runtime.kernels.Parallel;

/**
 * Cuts one product c[m,n] = op(a)[m,k] op(b)[k,n] into one piece per core, run on Kiln's pool
 * ({@link Parallel}), each piece a single-threaded BLAS call on a block of c's rows or columns. Every
 * piece packs the whole operand it shares with the others, so the cut goes across the dimension whose
 * shared operand is the smaller: rows (sharing b, k*n) when m >= n, columns (sharing a, m*k) otherwise.
 */
public final class GemmSplit {
  private GemmSplit() {}

  /** Piece bounds are multiples of this many rows or columns (a 64-byte line of floats), except the last. */
  static final int ALIGN = 16;

  /** One piece: pm x pn of c, its operands and c starting at the given element offsets. */
  @FunctionalInterface
  public interface Piece {
    void run(int pm, int pn, long aOffset, long bOffset, long cOffset);
  }

  public static void split(boolean ta, boolean tb, int m, int n, int k, Piece piece) {
    boolean rows = m >= n;
    int extent = rows ? m : n;
    int parts = Math.min(Parallel.THREADS, Math.max(1, extent / ALIGN));
    Parallel.split(parts, parts, (lo, hi) -> {
      for (int p = lo; p < hi; p++) {
        int from = bound(extent, parts, p);
        int to = bound(extent, parts, p + 1);
        if (to <= from) {
          continue;
        }
        if (rows) {
          piece.run(to - from, n, ta ? from : (long) from * k, 0, (long) from * n);
        } else {
          piece.run(m, to - from, 0, tb ? (long) from * k : from, from);
        }
      }
    });
  }

  /** Start of piece p of parts over [0, extent), rounded down to {@link #ALIGN} (the last ends at extent). */
  static int bound(int extent, int parts, int p) {
    if (p >= parts) {
      return extent;
    }
    return (int) ((long) extent * p / parts) / ALIGN * ALIGN;
  }
}
