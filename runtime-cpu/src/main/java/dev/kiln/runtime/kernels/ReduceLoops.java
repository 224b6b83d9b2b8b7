package dev.kiln.runtime.kernels;

import dev.kiln.runtime.kernels.ReduceKernels.Op;

/**
 * The reduction loops, one per dtype. A row either folds element by element into the output (kind 1,
 * vectorizable) or folds entirely into one output element (kind 0). Float sums of a row accumulate in
 * double with four independent partial sums, for accuracy and instruction-level parallelism.
 */
final class ReduceLoops {
  private ReduceLoops() {}

  /** Accumulates x[xo, xo + n) into y: element by element (kind 1) or all into y[yo] (kind 0). */
  static void f32(Op op, int kind, float[] y, int yo, float[] x, int xo, int n) {
    if (kind == 1) {
      switch (op) {
        case SUM -> { for (int i = 0; i < n; i++) y[yo + i] = y[yo + i] + x[xo + i]; }
        case PROD -> { for (int i = 0; i < n; i++) y[yo + i] = y[yo + i] * x[xo + i]; }
        case MAX -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(y[yo + i], x[xo + i]); }
        case MIN -> { for (int i = 0; i < n; i++) y[yo + i] = Math.min(y[yo + i], x[xo + i]); }
      }
      return;
    }
    switch (op) {
      case SUM -> {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
          s0 += x[xo + i];
          s1 += x[xo + i + 1];
          s2 += x[xo + i + 2];
          s3 += x[xo + i + 3];
        }
        for (; i < n; i++) {
          s0 += x[xo + i];
        }
        y[yo] += (float) ((s0 + s1) + (s2 + s3));
      }
      case PROD -> {
        float s = y[yo];
        for (int i = 0; i < n; i++) s = s * x[xo + i];
        y[yo] = s;
      }
      case MAX -> {
        float s = y[yo];
        for (int i = 0; i < n; i++) s = Math.max(s, x[xo + i]);
        y[yo] = s;
      }
      case MIN -> {
        float s = y[yo];
        for (int i = 0; i < n; i++) s = Math.min(s, x[xo + i]);
        y[yo] = s;
      }
    }
  }

  /** Accumulates x[xo, xo + n) into y: element by element (kind 1) or all into y[yo] (kind 0). */
  static void f64(Op op, int kind, double[] y, int yo, double[] x, int xo, int n) {
    if (kind == 1) {
      switch (op) {
        case SUM -> { for (int i = 0; i < n; i++) y[yo + i] = y[yo + i] + x[xo + i]; }
        case PROD -> { for (int i = 0; i < n; i++) y[yo + i] = y[yo + i] * x[xo + i]; }
        case MAX -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(y[yo + i], x[xo + i]); }
        case MIN -> { for (int i = 0; i < n; i++) y[yo + i] = Math.min(y[yo + i], x[xo + i]); }
      }
      return;
    }
    switch (op) {
      case SUM -> {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
          s0 += x[xo + i];
          s1 += x[xo + i + 1];
          s2 += x[xo + i + 2];
          s3 += x[xo + i + 3];
        }
        for (; i < n; i++) {
          s0 += x[xo + i];
        }
        y[yo] += ((s0 + s1) + (s2 + s3));
      }
      case PROD -> {
        double s = y[yo];
        for (int i = 0; i < n; i++) s = s * x[xo + i];
        y[yo] = s;
      }
      case MAX -> {
        double s = y[yo];
        for (int i = 0; i < n; i++) s = Math.max(s, x[xo + i]);
        y[yo] = s;
      }
      case MIN -> {
        double s = y[yo];
        for (int i = 0; i < n; i++) s = Math.min(s, x[xo + i]);
        y[yo] = s;
      }
    }
  }

  /** Accumulates x[xo, xo + n) into y: element by element (kind 1) or all into y[yo] (kind 0). */
  static void i32(Op op, int kind, int[] y, int yo, int[] x, int xo, int n) {
    if (kind == 1) {
      switch (op) {
        case SUM -> { for (int i = 0; i < n; i++) y[yo + i] = y[yo + i] + x[xo + i]; }
        case PROD -> { for (int i = 0; i < n; i++) y[yo + i] = y[yo + i] * x[xo + i]; }
        case MAX -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(y[yo + i], x[xo + i]); }
        case MIN -> { for (int i = 0; i < n; i++) y[yo + i] = Math.min(y[yo + i], x[xo + i]); }
      }
      return;
    }
    switch (op) {
      case SUM -> {
        int s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
          s0 += x[xo + i];
          s1 += x[xo + i + 1];
          s2 += x[xo + i + 2];
          s3 += x[xo + i + 3];
        }
        for (; i < n; i++) {
          s0 += x[xo + i];
        }
        y[yo] += ((s0 + s1) + (s2 + s3));
      }
      case PROD -> {
        int s = y[yo];
        for (int i = 0; i < n; i++) s = s * x[xo + i];
        y[yo] = s;
      }
      case MAX -> {
        int s = y[yo];
        for (int i = 0; i < n; i++) s = Math.max(s, x[xo + i]);
        y[yo] = s;
      }
      case MIN -> {
        int s = y[yo];
        for (int i = 0; i < n; i++) s = Math.min(s, x[xo + i]);
        y[yo] = s;
      }
    }
  }

  /** Accumulates x[xo, xo + n) into y: element by element (kind 1) or all into y[yo] (kind 0). */
  static void i64(Op op, int kind, long[] y, int yo, long[] x, int xo, int n) {
    if (kind == 1) {
      switch (op) {
        case SUM -> { for (int i = 0; i < n; i++) y[yo + i] = y[yo + i] + x[xo + i]; }
        case PROD -> { for (int i = 0; i < n; i++) y[yo + i] = y[yo + i] * x[xo + i]; }
        case MAX -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(y[yo + i], x[xo + i]); }
        case MIN -> { for (int i = 0; i < n; i++) y[yo + i] = Math.min(y[yo + i], x[xo + i]); }
      }
      return;
    }
    switch (op) {
      case SUM -> {
        long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
          s0 += x[xo + i];
          s1 += x[xo + i + 1];
          s2 += x[xo + i + 2];
          s3 += x[xo + i + 3];
        }
        for (; i < n; i++) {
          s0 += x[xo + i];
        }
        y[yo] += ((s0 + s1) + (s2 + s3));
      }
      case PROD -> {
        long s = y[yo];
        for (int i = 0; i < n; i++) s = s * x[xo + i];
        y[yo] = s;
      }
      case MAX -> {
        long s = y[yo];
        for (int i = 0; i < n; i++) s = Math.max(s, x[xo + i]);
        y[yo] = s;
      }
      case MIN -> {
        long s = y[yo];
        for (int i = 0; i < n; i++) s = Math.min(s, x[xo + i]);
        y[yo] = s;
      }
    }
  }
}
