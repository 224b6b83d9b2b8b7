package dev.kiln.graph;

import static dev.kiln.graph.AttrDef.optional;
import static dev.kiln.graph.Infer.FLOAT;
import static dev.kiln.graph.Infer.sameDType;

import dev.kiln.graph.AttrDef.Constraint;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Batch and layer normalization over the last (channel) axis, each one fused op with a fused
 * backward op.
 *
 * <ul>
 *   <li>{@code BatchNorm(x, scale, offset, mean, variance)}: with {@code training} (the default) x is
 *       normalized with its own statistics over every axis but the last, and the outputs are y, the
 *       batch mean and the batch variance (biased, the one y used), from which a layer updates its
 *       moving averages in the same run; without it x is normalized with the given mean and variance,
 *       which are passed through as outputs 1 and 2.
 *   <li>{@code LayerNorm(x, gamma, beta)}: x normalized over its last axis, then scaled and shifted.
 * </ul>
 * {@code y = (x - mean) / sqrt(var + epsilon) * scale + offset}.
 */
final class NormOps {
  private NormOps() {}

  static void define(List<OpDef> defs) {
    AttrDef eps3 = optional("epsilon", AttrType.FLOAT, 1e-3).constrained(positive());
    AttrDef eps5 = optional("epsilon", AttrType.FLOAT, 1e-5).constrained(positive());
    defs.add(new DefinedOp("BatchNorm", 5, 5, AttrSchema.of(eps3, optional("training", AttrType.BOOL, true)),
        NormOps::batchNorm, Optional.of(NormOps::batchNormGradient)));
    defs.add(new DefinedOp("BatchNormGrad", 5, 5, AttrSchema.of(eps3), NormOps::batchNormGrad, Optional.empty()));
    defs.add(new DefinedOp("LayerNorm", 3, 3, AttrSchema.of(eps5), NormOps::layerNorm,
        Optional.of(ArrayGradients.of(NormOps::layerNormGradient))));
    defs.add(new DefinedOp("LayerNormGrad", 3, 3, AttrSchema.of(eps5), NormOps::layerNormGrad, Optional.empty()));
  }

  private static Constraint positive() {
    return new Constraint("a finite number > 0", v -> (Double) v > 0 && Double.isFinite((Double) v));
  }

  /** The channel count of x (its last dimension, -1 when unknown), checking the rank. */
  private static int channels(OpContext c, Shape x) {
    if (!x.hasKnownRank()) {
      return -1;
    }
    if (x.rank() == 0) {
      throw c.error("input 0 must have rank >= 1 (channels last), got a scalar");
    }
    return x.dim(x.rank() - 1);
  }

  /** Inputs from..to-1 are vectors of c channels. */
  private static Shape perChannel(OpContext c, int channels, int from, int to, String... names) {
    Shape v = Shape.of(channels);
    for (int i = from; i < to; i++) {
      Shape s = c.shape(i);
      if (s.hasKnownRank() && s.rank() != 1) {
        throw c.error("%s (input %d) must be a vector of the %s channels of input 0, got %s",
            names[i - from], i, channels < 0 ? "?" : Integer.toString(channels), s);
      }
      if (!s.isCompatibleWith(v)) {
        throw c.error("%s (input %d) has shape %s, but input 0 %s has %d channels (its last dimension)",
            names[i - from], i, s, c.shape(0), channels);
      }
      v = v.mergeWith(s);
    }
    return v;
  }

  private static List<TensorType> batchNorm(OpContext c) {
    DType d = sameDType(c, 0, FLOAT);
    int ch = channels(c, c.shape(0));
    Shape v = perChannel(c, ch, 1, 5, "scale", "offset", "mean", "variance");
    return List.of(new TensorType(d, c.shape(0)), new TensorType(d, v), new TensorType(d, v));
  }

  /** (dy, x, scale, mean, variance) to (dx, dscale, doffset). */
  private static List<TensorType> batchNormGrad(OpContext c) {
    DType d = sameDType(c, 0, FLOAT);
    if (!c.shape(0).isCompatibleWith(c.shape(1))) {
      throw c.error("gradient %s and input %s differ in shape", c.shape(0), c.shape(1));
    }
    Shape x = c.shape(1).mergeWith(c.shape(0));
    Shape v = perChannel(c, channels(c, x), 2, 5, "scale", "mean", "variance");
    return List.of(new TensorType(d, x), new TensorType(d, v), new TensorType(d, v));
  }

  private static List<TensorType> layerNorm(OpContext c) {
    DType d = sameDType(c, 0, FLOAT);
    perChannel(c, channels(c, c.shape(0)), 1, 3, "gamma", "beta");
    return List.of(new TensorType(d, c.shape(0)));
  }

  /** (dy, x, gamma) to (dx, dgamma, dbeta). */
  private static List<TensorType> layerNormGrad(OpContext c) {
    DType d = sameDType(c, 0, FLOAT);
    if (!c.shape(0).isCompatibleWith(c.shape(1))) {
      throw c.error("gradient %s and input %s differ in shape", c.shape(0), c.shape(1));
    }
    Shape x = c.shape(1).mergeWith(c.shape(0));
    Shape v = perChannel(c, channels(c, x), 2, 3, "gamma");
    return List.of(new TensorType(d, x), new TensorType(d, v), new TensorType(d, v));
  }

  // ---------------------------------------------------------------- gradients

  private static List<Optional<Output>> batchNormGradient(Ops tf, Operation op, List<Optional<Output>> grads) {
    Output x = op.input(0);
    Output scale = op.input(1);
    double eps = op.attrs().getDouble("epsilon");
    List<Optional<Output>> out = new ArrayList<>(List.of(Optional.empty(), Optional.empty(), Optional.empty(),
        Optional.empty(), Optional.empty()));
    int[] batchAxes = batchAxes(op, x);
    if (!op.attrs().getBool("training")) {
      // y = (x - mean) * r * scale + offset with r = (var + eps)^-1/2, the statistics given.
      if (grads.get(0).isEmpty()) {
        return out;
      }
      Output g = grads.get(0).get();
      Output mean = op.input(3);
      Output r = tf.rsqrt(tf.add(op.input(4), tf.constant(eps, x.dtype())));
      Output centered = tf.sub(x, mean);
      Output gSum = tf.reduceSum(g, batchAxes, false);
      Output gCentered = tf.reduceSum(tf.mul(g, centered), batchAxes, false);
      out.set(0, Optional.of(tf.mul(g, tf.mul(r, scale))));
      out.set(1, Optional.of(tf.mul(gCentered, r)));
      out.set(2, Optional.of(gSum));
      out.set(3, Optional.of(tf.neg(tf.mul(gSum, tf.mul(r, scale)))));
      out.set(4, Optional.of(tf.mul(gCentered, tf.mul(scale, tf.mul(tf.constant(-0.5, x.dtype()),
          tf.mul(r, tf.square(r)))))));
      return out;
    }
    Output dx = null;
    if (grads.get(0).isPresent()) {
      Operation back = tf.opBuilder("BatchNormGrad").addInput(grads.get(0).get()).addInput(x).addInput(scale)
          .addInput(op.output(1)).addInput(op.output(2)).setAttr("epsilon", eps).build();
      dx = back.output(0);
      out.set(1, Optional.of(back.output(1)));
      out.set(2, Optional.of(back.output(2)));
    }
    // The batch statistics depend on x too: d mean / dx = 1/N, d var / dx = 2 (x - mean) / N.
    Output n = count(tf, x, batchAxes);
    if (grads.get(1).isPresent()) {
      Output term = tf.mul(tf.onesLike(x), tf.div(grads.get(1).get(), n));
      dx = dx == null ? term : tf.add(dx, term);
    }
    if (grads.get(2).isPresent()) {
      Output term = tf.mul(tf.sub(x, op.output(1)), tf.div(tf.mul(grads.get(2).get(), tf.constant(2.0, x.dtype())), n));
      dx = dx == null ? term : tf.add(dx, term);
    }
    out.set(0, Optional.ofNullable(dx));
    return out;
  }

  /** Every axis of x but the last. */
  private static int[] batchAxes(Operation op, Output x) {
    if (!x.shape().hasKnownRank()) {
      throw new IllegalArgumentException("gradients: the gradient of " + op + " needs an input of known rank");
    }
    int[] axes = new int[x.shape().rank() - 1];
    java.util.Arrays.setAll(axes, i -> i);
    return axes;
  }

  /** The number of elements per channel, as a scalar of x's dtype. */
  private static Output count(Ops tf, Output x, int[] batchAxes) {
    long n = 1;
    for (int a : batchAxes) {
      int d = x.shape().dim(a);
      if (d < 0) {
        return tf.reduceSum(tf.onesLike(tf.slice(x, zeros(x.shape().rank()), lastOne(x.shape().rank()))));
      }
      n *= d;
    }
    return tf.constant((double) n, x.dtype());
  }

  private static int[] zeros(int r) {
    return new int[r];
  }

  /** Sizes that keep every axis but the last whole, and one channel. */
  private static int[] lastOne(int r) {
    int[] s = new int[r];
    java.util.Arrays.fill(s, -1);
    s[r - 1] = 1;
    return s;
  }

  private static Output[] layerNormGradient(Ops tf, Operation op, Output g) {
    Operation back = tf.opBuilder("LayerNormGrad").addInput(g).addInput(op.input(0)).addInput(op.input(1))
        .setAttr("epsilon", op.attrs().getDouble("epsilon")).build();
    return new Output[] {back.output(0), back.output(1), back.output(2)};
  }
}
