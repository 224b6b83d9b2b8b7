package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import java.util.ArrayList;
import java.util.List;

/**
 * A float reduction over trailing axes, folded block by block: the input is walked in row-major
 * order and each output element folds one segment of {@code segment} consecutive elements. The
 * reductions that end a Fused body are folded this way while the kernel computes their input (which
 * is then never written out), and so are plain Sum/Mean/Max/Min over trailing axes. A segment wholly
 * inside a block is folded and written there; the pieces of a segment cut by block bounds are kept
 * per block (at most a head and a tail) and combined in block order once every block is done, so
 * the result does not depend on how the blocks were split over threads and is the same run after
 * run.
 *
 * <p>Sums (and means) of floats accumulate in double ({@link VectorReduce} when the Vector API is
 * there; a fused kernel's short blocks first add at most 16 values per float lane); max and min
 * follow Math.max/min (NaN wins, -0 below +0).
 */
public final class SegmentedReduction {
  enum Kind { SUM, MEAN, MAX, MIN, PROD }

  public final int index;
  public final int value;
  private final int[] outputs;
  private final Kind kind;
  private final boolean f32;
  private final int segment;
  private final boolean shortPieces;

  /**
   * @param index this reduction's number in its kernel (its partials' index)
   * @param value the Fused body value reduced (its location is read per block), or -1
   * @param outputs the outputs this result is written to (indexes into the output slots)
   * @param segment elements folded into each output element (the product of the reduced dims)
   * @param shortPieces blocks are short (a fused kernel's): float sums may add in float lanes first
   */
  SegmentedReduction(int index, String type, DType dtype, int value, int[] outputs, int segment, boolean shortPieces) {
    this.shortPieces = shortPieces;
    this.index = index;
    this.kind = switch (type) {
      case "Sum" -> Kind.SUM;
      case "Mean" -> Kind.MEAN;
      case "Max" -> Kind.MAX;
      case "Min" -> Kind.MIN;
      case "Prod" -> Kind.PROD;
      default -> throw new AssertionError(type);
    };
    this.f32 = dtype == DType.FLOAT32;
    this.value = value;
    this.outputs = outputs;
    this.segment = segment;
  }

  /**
   * The reduction a Fused body node {@code n} folds (value {@code in} of shape {@code inShape}), or
   * null when its value is not a result (nothing to compute). Its input must span the iteration
   * space and the reduced axes must be its trailing ones.
   */
  public static SegmentedReduction ofFusedBody(KernelSpec spec, Subgraph body, Operation n, int in, Shape inShape,
      Shape space, int index, boolean shortPieces) {
    List<Integer> outs = new ArrayList<>();
    for (int j = 0; j < body.results().size(); j++) {
      if (body.results().get(j).equals(n.output(0))) {
        outs.add(j);
      }
    }
    if (outs.isEmpty()) {
      return null;
    }
    DType d = n.output(0).dtype();
    if (!d.isFloating()) {
      throw KernelSupport.error(spec, "body reduction %s '%s' on %s: the fused kernel folds float reductions only",
          n.type(), n.name(), d.shortName());
    }
    if (inShape.numElements() != space.numElements()) {
      throw KernelSupport.error(spec, "body reduction %s '%s' reads a value of shape %s, not the iteration space %s",
          n.type(), n.name(), inShape, space);
    }
    int rank = inShape.rank();
    boolean[] reduced = new boolean[rank];
    for (long a : n.attrs().getLongs("axes")) {
      reduced[KernelSupport.axis(a, rank)] = true;
    }
    long segment = 1;
    boolean seenReduced = false;
    for (int k = 0; k < rank; k++) {
      int dim = inShape.dim(k);
      if (reduced[k]) {
        segment *= dim;
        seenReduced |= dim != 1;
      } else if (dim != 1 && seenReduced) {
        throw KernelSupport.error(spec, "body reduction %s '%s' over axes %s of %s: the fused kernel folds trailing axes only",
            n.type(), n.name(), n.attrs().getLongs("axes"), inShape);
      }
    }
    return new SegmentedReduction(index, n.type(), d, in, outs.stream().mapToInt(Integer::intValue).toArray(),
        Math.toIntExact(segment), shortPieces);
  }

  /** Folds {@code src[so, so + n)}, the block starting at element {@code lo} of the space. */
  public void accumulate(Object src, int so, int lo, int n, int block, double[] partial, Object[] frame, int[] outSlots) {
    int end = lo + n;
    int seg = lo / segment;
    int segStart = seg * segment;
    int pos = lo;
    if (segStart != lo || end - segStart < segment) { // head: a segment the block does not hold whole
      int pieceEnd = Math.min(end, segStart + segment);
      partial[2 * block] = piece(src, so, pieceEnd - pos);
      pos = pieceEnd;
      seg++;
    }
    for (; end - pos >= segment; pos += segment, seg++) {
      write(frame, outSlots, seg, finish(piece(src, so + pos - lo, segment)));
    }
    if (pos < end) { // tail: the start of a segment the next block goes on with
      partial[2 * block + 1] = piece(src, so + pos - lo, end - pos);
    }
  }

  /** Combines the blocks' heads and tails in block order and writes the segments they make up. */
  public void combine(double[] partial, int size, int blockSize, Object[] frame, int[] outSlots) {
    int blocks = (size + blockSize - 1) / blockSize;
    int current = -1;
    double acc = identity();
    for (int b = 0; b < blocks; b++) {
      int lo = b * blockSize;
      int end = Math.min(size, lo + blockSize);
      int seg = lo / segment;
      int segStart = seg * segment;
      int pos = lo;
      for (int part = 0; part < 2; part++) {
        boolean present;
        if (part == 0) {
          present = segStart != lo || end - segStart < segment;
          if (present) {
            pos = Math.min(end, segStart + segment);
          }
        } else {
          int whole = (end - pos) / segment;
          pos += whole * segment;
          seg += whole;
          present = pos < end;
        }
        if (present) {
          if (seg != current) {
            if (current >= 0) {
              write(frame, outSlots, current, finish(acc));
            }
            current = seg;
            acc = identity();
          }
          acc = fold(acc, partial[2 * b + part]);
        }
        if (part == 0 && present) {
          seg++;
        }
      }
    }
    if (current >= 0) {
      write(frame, outSlots, current, finish(acc));
    }
  }

  /** Writes the value of an empty reduction (0, NaN for a mean, -inf/+inf, 1) to all n outputs. */
  public void fillEmpty(int n, Object[] frame, int[] outSlots) {
    double v = finish(identity());
    for (int i = 0; i < n; i++) {
      write(frame, outSlots, i, v);
    }
  }

  private double identity() {
    return switch (kind) {
      case SUM, MEAN -> 0;
      case MAX -> Double.NEGATIVE_INFINITY;
      case MIN -> Double.POSITIVE_INFINITY;
      case PROD -> 1;
    };
  }

  private double fold(double acc, double v) {
    return switch (kind) {
      case SUM, MEAN -> acc + v;
      case MAX -> Math.max(acc, v);
      case MIN -> Math.min(acc, v);
      case PROD -> acc * v;
    };
  }

  private double finish(double acc) {
    return kind == Kind.MEAN ? acc / segment : acc;
  }

  private void write(Object[] frame, int[] outSlots, int at, double v) {
    for (int j : outputs) {
      if (f32) {
        ((float[]) frame[outSlots[j]])[at] = (float) v;
      } else {
        ((double[]) frame[outSlots[j]])[at] = v;
      }
    }
  }

  private static final boolean VECTOR = VectorSupport.AVAILABLE;

  /** The fold of n elements from offset so. */
  private double piece(Object src, int so, int n) {
    if (f32) {
      float[] a = (float[]) src;
      return switch (kind) {
        case SUM, MEAN -> shortPieces ? (VECTOR ? VectorReduce.sumShort(a, so, n) : sumShort(a, so, n))
            : VECTOR ? VectorReduce.sum(a, so, n) : sum(a, so, n);
        case MAX -> VECTOR ? VectorReduce.max(a, so, n) : max(a, so, n);
        case MIN -> VECTOR ? VectorReduce.min(a, so, n) : min(a, so, n);
        case PROD -> {
          double p = 1;
          for (int i = 0; i < n; i++) p *= a[so + i];
          yield p;
        }
      };
    }
    double[] a = (double[]) src;
    return switch (kind) {
      case SUM, MEAN -> VECTOR ? VectorReduce.sum(a, so, n) : sum(a, so, n);
      case MAX -> {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, a[so + i]);
        yield m;
      }
      case MIN -> {
        double m = Double.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.min(m, a[so + i]);
        yield m;
      }
      case PROD -> {
        double p = 1;
        for (int i = 0; i < n; i++) p *= a[so + i];
        yield p;
      }
    };
  }

  static double sum(float[] a, int o, int n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += a[o + i];
      s1 += a[o + i + 1];
      s2 += a[o + i + 2];
      s3 += a[o + i + 3];
    }
    for (; i < n; i++) {
      s0 += a[o + i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * The sum of a short range (a fused block) in eight float accumulators, then added in double in a
   * fixed order: as VectorReduce.sumShort without the Vector API (each accumulator adds n/8 values),
   * about 1.7 times as fast as widening every element.
   */
  public static double sumShort(float[] a, int o, int n) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    float s4 = 0;
    float s5 = 0;
    float s6 = 0;
    float s7 = 0;
    int i = 0;
    for (; i + 7 < n; i += 8) {
      s0 += a[o + i];
      s1 += a[o + i + 1];
      s2 += a[o + i + 2];
      s3 += a[o + i + 3];
      s4 += a[o + i + 4];
      s5 += a[o + i + 5];
      s6 += a[o + i + 6];
      s7 += a[o + i + 7];
    }
    double s = (((double) s0 + s1) + ((double) s2 + s3)) + (((double) s4 + s5) + ((double) s6 + s7));
    for (; i < n; i++) {
      s += a[o + i];
    }
    return s;
  }

  static double sum(double[] a, int o, int n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 3 < n; i += 4) {
      s0 += a[o + i];
      s1 += a[o + i + 1];
      s2 += a[o + i + 2];
      s3 += a[o + i + 3];
    }
    for (; i < n; i++) {
      s0 += a[o + i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  private static double max(float[] a, int o, int n) {
    float m = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) m = Math.max(m, a[o + i]);
    return m;
  }

  private static double min(float[] a, int o, int n) {
    float m = Float.POSITIVE_INFINITY;
    for (int i = 0; i < n; i++) m = Math.min(m, a[o + i]);
    return m;
  }
}
