package dev.kiln.runtime.kernels;

import dev.kiln.runtime.exec.RuntimeProperties;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A float Sum/ReduceSumLike over leading axes: x seen as [rows, cols], y[c] = sum over r of x[r, c]
 * (a bias gradient: [batch, features] -> [features]). The rows are folded four at a time into y,
 * which stays in the L1 cache, in row-major order (sequential reads the hardware prefetches); large
 * inputs split their columns over the cores, so each output element has one owner and the result
 * does not depend on the split. Allocates nothing per run.
 */
public final class ColumnSumKernel implements Kernel {
  /** Elements from which the columns are split over the cores (memory-bound: smaller ran no faster split). */
  static final int MIN_SPLIT = RuntimeProperties.SYSTEM.columnSumMinSplit();

  private final boolean f64;
  private final int rows;
  private final int cols;
  private final int slotX;
  private final int slotY;
  private final int parts;

  ColumnSumKernel(KernelSpec spec, boolean f64, int rows, int cols) {
    this.f64 = f64;
    this.rows = rows;
    this.cols = cols;
    this.slotX = spec.inputSlots()[0];
    this.slotY = spec.outputSlots()[0];
    long total = (long) rows * cols;
    this.parts = total < MIN_SPLIT || cols < 256 ? 1 : Math.min(Parallel.THREADS, cols / 128);
  }

  /**
   * The number of columns when the axes of {@code x} that {@code kept} (aligned right) reduces all
   * come before the ones it keeps, dims of 1 aside, and at least one of each; else 0.
   */
  public static int leadingColumns(int[] x, int[] kept) {
    long cols = 1;
    boolean seenKept = false;
    boolean seenReduced = false;
    for (int i = 0; i < x.length; i++) {
      if (x[i] == 1) {
        continue;
      }
      int k = i - (x.length - kept.length);
      boolean reduced = k < 0 || kept[k] == 1;
      if (reduced) {
        if (seenKept) {
          return 0;
        }
        seenReduced = true;
      } else {
        seenKept = true;
        cols *= x[i];
      }
    }
    return seenKept && seenReduced && cols <= Integer.MAX_VALUE ? (int) cols : 0;
  }

  @Override
  public void run(Object[] frame) {
    Object x = frame[slotX];
    Object y = frame[slotY];
    if (parts <= 1) {
      sum(x, y, 0, cols);
    } else {
      // Column ranges in multiples of 16 so that no two threads write the same cache line.
      int units = (cols + 15) / 16;
      Parallel.split(units, parts, (lo, hi) -> sum(x, y, lo * 16, Math.min(cols, hi * 16)));
    }
  }

  private void sum(Object x, Object y, int c0, int c1) {
    if (f64) {
      sumF64((double[]) x, (double[]) y, c0, c1);
    } else {
      sumF32((float[]) x, (float[]) y, c0, c1);
    }
  }

  private void sumF32(float[] x, float[] y, int from, int c1) {
    // C2 does not vectorize the loop below well: 52 us for 256x1024 (warm), against 13 us with the
    // Vector API (whole vectors of columns, in the same order per element; the rest below).
    int c0 = VectorSupport.AVAILABLE ? ColumnVectors.f32(x, y, rows, cols, from, c1) : from;
    java.util.Arrays.fill(y, c0, c1, 0f);
    int r = 0;
    for (; r + 3 < rows; r += 4) {
      int o0 = r * cols;
      int o1 = o0 + cols;
      int o2 = o1 + cols;
      int o3 = o2 + cols;
      for (int c = c0; c < c1; c++) {
        y[c] += (x[o0 + c] + x[o1 + c]) + (x[o2 + c] + x[o3 + c]);
      }
    }
    for (; r < rows; r++) {
      int o = r * cols;
      for (int c = c0; c < c1; c++) {
        y[c] += x[o + c];
      }
    }
  }

  private void sumF64(double[] x, double[] y, int from, int c1) {
    int c0 = VectorSupport.AVAILABLE ? ColumnVectors.f64(x, y, rows, cols, from, c1) : from;
    java.util.Arrays.fill(y, c0, c1, 0.0);
    int r = 0;
    for (; r + 3 < rows; r += 4) {
      int o0 = r * cols;
      int o1 = o0 + cols;
      int o2 = o1 + cols;
      int o3 = o2 + cols;
      for (int c = c0; c < c1; c++) {
        y[c] += (x[o0 + c] + x[o1 + c]) + (x[o2 + c] + x[o3 + c]);
      }
    }
    for (; r < rows; r++) {
      int o = r * cols;
      for (int c = c0; c < c1; c++) {
        y[c] += x[o + c];
      }
    }
  }

  /**
   * The same sums with the Vector API (loaded only when it is available) over the columns of whole
   * vectors in [c0, c1), in the same row-major walk and per column the scalar loop's additions,
   * y + ((x0 + x1) + (x2 + x3)), so the bits agree; returns where the columns it left start.
   */
  private static final class ColumnVectors {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    static int f32(float[] x, float[] y, int rows, int cols, int c0, int c1) {
      int bound = c0 + (c1 - c0) / F.length() * F.length();
      for (int c = c0; c < bound; c += F.length()) {
        FloatVector.zero(F).intoArray(y, c);
      }
      int r = 0;
      for (; r + 3 < rows; r += 4) {
        int o = r * cols;
        for (int c = c0; c < bound; c += F.length()) {
          FloatVector.fromArray(F, y, c).add(
              FloatVector.fromArray(F, x, o + c).add(FloatVector.fromArray(F, x, o + cols + c))
                  .add(FloatVector.fromArray(F, x, o + 2 * cols + c).add(FloatVector.fromArray(F, x, o + 3 * cols + c))))
              .intoArray(y, c);
        }
      }
      for (; r < rows; r++) {
        for (int c = c0; c < bound; c += F.length()) {
          FloatVector.fromArray(F, y, c).add(FloatVector.fromArray(F, x, r * cols + c)).intoArray(y, c);
        }
      }
      return bound;
    }

    static int f64(double[] x, double[] y, int rows, int cols, int c0, int c1) {
      int bound = c0 + (c1 - c0) / D.length() * D.length();
      for (int c = c0; c < bound; c += D.length()) {
        DoubleVector.zero(D).intoArray(y, c);
      }
      int r = 0;
      for (; r + 3 < rows; r += 4) {
        int o = r * cols;
        for (int c = c0; c < bound; c += D.length()) {
          DoubleVector.fromArray(D, y, c).add(
              DoubleVector.fromArray(D, x, o + c).add(DoubleVector.fromArray(D, x, o + cols + c))
                  .add(DoubleVector.fromArray(D, x, o + 2 * cols + c).add(DoubleVector.fromArray(D, x, o + 3 * cols + c))))
              .intoArray(y, c);
        }
      }
      for (; r < rows; r++) {
        for (int c = c0; c < bound; c += D.length()) {
          DoubleVector.fromArray(D, y, c).add(DoubleVector.fromArray(D, x, r * cols + c)).intoArray(y, c);
        }
      }
      return bound;
    }
  }
}
