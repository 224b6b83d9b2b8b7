package dev.kiln.spark;

import dev.kiln.graph.Tensor;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * Examples packed column by column, one flat primitive array per fed placeholder in its dtype (a
 * worker's share of the training data, or a batch to score): rows are read as tensors without boxing.
 */
final class ExampleBlock implements Serializable {
  private static final long serialVersionUID = 1L;

  private final List<FeedSpec> feeds;
  private final int rows;
  private final Object[] columns;

  private ExampleBlock(List<FeedSpec> feeds, int rows, Object[] columns) {
    this.feeds = feeds;
    this.rows = rows;
    this.columns = columns;
  }

  int rows() {
    return rows;
  }

  /** The tensor fed to placeholder {@code f} for rows {@code [from, to)}. */
  Tensor tensor(int f, int from, int to) {
    FeedSpec spec = feeds.get(f);
    int n = spec.exampleSize();
    int[] dims = spec.batchDims(to - from);
    return switch (columns[f]) {
      case float[] a -> Tensor.of(Arrays.copyOfRange(a, from * n, to * n), dims);
      case double[] a -> Tensor.of(Arrays.copyOfRange(a, from * n, to * n), dims);
      case int[] a -> Tensor.of(Arrays.copyOfRange(a, from * n, to * n), dims);
      case long[] a -> Tensor.of(Arrays.copyOfRange(a, from * n, to * n), dims);
      default -> throw new IllegalStateException("column of " + columns[f].getClass());
    };
  }

  /** Packs rows given as one value per feed (a number, an array or a list of numbers, possibly nested). */
  static final class Builder {
    private final List<FeedSpec> feeds;
    private final Object[] columns;
    private int rows;

    Builder(List<FeedSpec> feeds, int capacity) {
      this.feeds = List.copyOf(feeds);
      this.columns = new Object[feeds.size()];
      for (int f = 0; f < feeds.size(); f++) {
        FeedSpec s = feeds.get(f);
        int size = Math.multiplyExact(capacity, s.exampleSize());
        columns[f] = switch (s.dtype()) {
          case FLOAT32 -> new float[size];
          case FLOAT64 -> new double[size];
          case INT32 -> new int[size];
          case INT64 -> new long[size];
          default -> throw new IllegalArgumentException("dtype " + s.dtype());
        };
      }
    }

    /** Appends one example; {@code values.get(f)} is the column value for feed {@code f}. */
    void add(List<?> values, Object where) {
      for (int f = 0; f < feeds.size(); f++) {
        FeedSpec s = feeds.get(f);
        int n = s.exampleSize();
        double[] flat = new double[n];
        int got = flatten(values.get(f), flat, 0, s, where);
        if (got != n) {
          throw new IllegalArgumentException("column '" + s.column() + "' of " + where + " holds " + got
              + " values; placeholder '" + s.placeholder() + "' takes " + n + " per example (shape "
              + s.exampleDims() + ")");
        }
        int base = rows * n;
        switch (columns[f]) {
          case float[] a -> { for (int i = 0; i < n; i++) a[base + i] = (float) flat[i]; }
          case double[] a -> System.arraycopy(flat, 0, a, base, n);
          case int[] a -> { for (int i = 0; i < n; i++) a[base + i] = (int) flat[i]; }
          case long[] a -> { for (int i = 0; i < n; i++) a[base + i] = (long) flat[i]; }
          default -> throw new IllegalStateException("column of " + columns[f].getClass());
        }
      }
      rows++;
    }

    ExampleBlock build() {
      Object[] trimmed = new Object[columns.length];
      for (int f = 0; f < columns.length; f++) {
        int size = rows * feeds.get(f).exampleSize();
        trimmed[f] = switch (columns[f]) {
          case float[] a -> Arrays.copyOf(a, size);
          case double[] a -> Arrays.copyOf(a, size);
          case int[] a -> Arrays.copyOf(a, size);
          case long[] a -> Arrays.copyOf(a, size);
          default -> throw new IllegalStateException("column of " + columns[f].getClass());
        };
      }
      return new ExampleBlock(feeds, rows, trimmed);
    }

    private static int flatten(Object v, double[] out, int at, FeedSpec s, Object where) {
      switch (v) {
        case null -> throw new IllegalArgumentException("column '" + s.column() + "' of " + where + " is null");
        case Number x -> {
          put(out, at, x.doubleValue());
          return at + 1;
        }
        case float[] a -> {
          for (float x : a) at = put(out, at, x);
          return at;
        }
        case double[] a -> {
          for (double x : a) at = put(out, at, x);
          return at;
        }
        case int[] a -> {
          for (int x : a) at = put(out, at, x);
          return at;
        }
        case long[] a -> {
          for (long x : a) at = put(out, at, x);
          return at;
        }
        case Iterable<?> it -> {
          for (Object x : it) at = flatten(x, out, at, s, where);
          return at;
        }
        case scala.collection.Iterable<?> it -> {
          scala.collection.Iterator<?> i = it.iterator();
          while (i.hasNext()) at = flatten(i.next(), out, at, s, where);
          return at;
        }
        default -> throw new IllegalArgumentException("column '" + s.column() + "' of " + where + " is a "
            + v.getClass().getName() + "; expected a number or an array of numbers for placeholder '"
            + s.placeholder() + "' (" + s.dtype().shortName() + ")");
      }
    }

    /** Stores x at {@code at} unless past the end (more values than the placeholder takes are only counted). */
    private static int put(double[] out, int at, double x) {
      if (at < out.length) {
        out[at] = x;
      }
      return at + 1;
    }
  }
}
