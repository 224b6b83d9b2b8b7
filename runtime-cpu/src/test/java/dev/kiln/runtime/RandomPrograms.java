package dev.kiln.runtime;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Random f32 programs for the optimizer's differential test: placeholders (some with unknown
 * dimensions), constants (some all ones or zeros, some duplicated) and a mix of elementwise ops with
 * broadcasting, MatMul, reductions (some over no axes) and layout ops (transposes and their
 * inverses, reshapes, concat, slice, pad), with repeated subexpressions, maybe a variable with an
 * AssignAdd step, maybe a random draw, maybe a fed intermediate; in two of three programs the
 * gradients of the last value with respect to the placeholders and the variable (fetched, and a
 * gradient-descent step on the variable, and readers ordered after it by control dependencies).
 * Some values come from a cond or a short loop (fixed trip count, bounded values) over a value and a
 * captured partner of its shape; their gradients go through the control-flow gradients.
 * Each value's run-time shape is tracked so that every op built is valid for the run.
 */
final class RandomPrograms {
  /** A generated program and what to run: feeds, fetches, an initializer and a training step. */
  record Case(long seed, Graph graph, Map<Output, Tensor> feeds, List<Output> fetches,
      Optional<Operation> init, Optional<Operation> step, int gradients) {}

  private record Value(Output out, int[] dims) {}

  private final Random rnd;
  private final long seed;
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final List<Value> pool = new ArrayList<>();
  private final List<Value> computed = new ArrayList<>();
  private final List<Supplier<Value>> recipes = new ArrayList<>();
  private final Map<Output, Tensor> feeds = new LinkedHashMap<>();
  private final List<Output> placeholders = new ArrayList<>();

  /** Decides the control-flow values, apart from {@link #rnd} so the other choices stay as they were. */
  private final Random cfRnd;

  private RandomPrograms(long seed) {
    this.seed = seed;
    this.rnd = new Random(seed);
    this.cfRnd = new Random(seed ^ 0x5DEECE66DL);
  }

  static Case generate(long seed) {
    return new RandomPrograms(seed).build();
  }

  private Case build() {
    int[] base = dims(1 + rnd.nextInt(3));
    for (int i = 0, n = 1 + rnd.nextInt(2); i < n; i++) {
      int[] d = i == 0 ? base : suffixOrSame(base);
      Shape declared = d.length > 0 && rnd.nextInt(4) == 0 ? Shape.of(d).withDim(0, -1) : Shape.of(d);
      Output p = tf.placeholder("x" + i, DType.FLOAT32, declared);
      feeds.put(p, data(d));
      placeholders.add(p);
      pool.add(new Value(p, d));
    }
    for (int i = 0, n = 1 + rnd.nextInt(3); i < n; i++) {
      pool.add(constant(rnd.nextBoolean() ? base : suffixOrSame(base)));
    }
    Variable var = null;
    if (rnd.nextInt(3) == 0) {
      var = tf.variable("v", tf.constant(data(base)));
      pool.add(new Value(var, base));
    }
    if (rnd.nextInt(4) == 0) {
      pool.add(new Value(tf.randomUniform(Shape.of(base), 1 + rnd.nextInt(100)), base));
    }
    for (int i = 0, n = 6 + rnd.nextInt(12); i < n; i++) {
      Value v = !recipes.isEmpty() && rnd.nextInt(7) == 0 ? recipes.get(rnd.nextInt(recipes.size())).get() : next();
      pool.add(v);
      computed.add(v);
    }
    List<Output> grads = List.of();
    if (rnd.nextInt(3) != 0) {
      List<Output> xs = new ArrayList<>(placeholders);
      if (var != null) {
        xs.add(var);
      }
      try {
        grads = tf.gradients(pool.get(pool.size() - 1).out(), xs);
      } catch (IllegalArgumentException e) {
        // Some gradients need dimensions a placeholder leaves unknown (Pad's); this program has none.
        grads = List.of();
      }
    }
    Optional<Operation> init = var == null ? Optional.empty() : Optional.of(tf.globalVariablesInitializer());
    Optional<Operation> step = Optional.empty();
    if (var != null && !grads.isEmpty()) {
      // A gradient-descent step on the variable.
      step = Optional.of(tf.assignSub(var, tf.mul(tf.constant(0.01f), grads.get(grads.size() - 1))).op());
    } else if (var != null) {
      Variable v = var;
      Value upd = sameShape(base).orElseGet(() -> new Value(tf.mul(v, tf.constant(0.5f)), base));
      step = Optional.of(tf.assignAdd(var, tf.reshape(upd.out(), Shape.of(base))).op());
    }
    List<Output> ordered = new ArrayList<>();
    if (step.isPresent()) {
      // Readers ordered after the step: they see the variable as assigned, copies of it as before.
      Ops after = tf.withControlDependencies(List.of(step.get()));
      for (int i = 0; i < 2; i++) {
        ordered.add(after.neg(pool.get(rnd.nextInt(pool.size())).out()));
      }
    }
    if (rnd.nextInt(5) == 0) {
      Value fed = computed.get(rnd.nextInt(computed.size()));
      if (!fed.out().op().type().equals("Const")) {
        feeds.put(fed.out(), data(fed.dims()));
      }
    }
    List<Output> fetches = new ArrayList<>();
    fetches.add(pool.get(pool.size() - 1).out());
    for (int i = 0; i < 2; i++) {
      fetches.add(pool.get(rnd.nextInt(pool.size())).out());
    }
    if (var != null) {
      fetches.add(var);
    }
    fetches.addAll(grads);
    fetches.addAll(ordered);
    return new Case(seed, g, feeds, fetches, init, step, grads.size());
  }

  private Value next() {
    Value a = pick();
    if (cfRnd.nextInt(8) == 0) {
      Supplier<Value> cf = controlFlow(a);
      recipes.add(cf);
      return cf.get();
    }
    int kind = rnd.nextInt(100);
    Supplier<Value> r;
    if (kind < 25) {
      String op = List.of("Neg", "Square", "Abs", "Tanh", "Sigmoid", "Relu", "Identity", "Exp", "Sin", "Neg").get(rnd.nextInt(10));
      r = () -> new Value(tf.opBuilder(op).addInput(a.out()).build().output(0), a.dims());
    } else if (kind < 55) {
      String op = List.of("Add", "Sub", "Mul", "Maximum", "Minimum", "Div", "Mul", "Add").get(rnd.nextInt(8));
      // A divisor is a constant away from zero: x/0 would make the sign of a zero (which x+0 -> x
      // may change, see AlgebraicSimplify) visible as +-inf.
      Value b = op.equals("Div") ? divisor(a.dims()) : rnd.nextInt(3) == 0 ? special(a.dims()) : partner(a.dims());
      boolean swap = !op.equals("Div") && rnd.nextBoolean();
      Value x = swap ? b : a;
      Value y = swap ? a : b;
      int[] out = broadcast(x.dims(), y.dims());
      r = () -> new Value(tf.opBuilder(op).addInput(x.out()).addInput(y.out()).build().output(0), out);
    } else if (kind < 65) {
      r = reduction(a);
    } else if (kind < 75 && a.dims().length >= 2) {
      int[] perm = permutation(a.dims().length);
      boolean inverse = rnd.nextBoolean();
      r = () -> {
        Output t = tf.transpose(a.out(), perm);
        int[] d = permute(a.dims(), perm);
        if (inverse) {
          int[] inv = new int[perm.length];
          for (int i = 0; i < perm.length; i++) {
            inv[perm[i]] = i;
          }
          return new Value(tf.transpose(t, inv), permute(d, inv));
        }
        return new Value(t, d);
      };
    } else if (kind < 82) {
      boolean same = rnd.nextBoolean();
      int n = Arrays.stream(a.dims()).reduce(1, (p, q) -> p * q);
      r = () -> same ? new Value(tf.reshape(a.out(), Shape.of(a.dims())), a.dims())
          : new Value(tf.reshape(a.out(), Shape.of(-1)), new int[] {n});
    } else if (kind < 90) {
      r = matmul(a);
    } else {
      r = layout(a);
    }
    recipes.add(r);
    return r.get();
  }

  /** A cond or a loop of one to three iterations over {@code a} and a captured value of its shape. */
  private Supplier<Value> controlFlow(Value a) {
    int[] d = a.dims();
    float[] cv = new float[Arrays.stream(d).reduce(1, (p, q) -> p * q)];
    for (int i = 0; i < cv.length; i++) {
      cv[i] = 0.5f + cfRnd.nextFloat();
    }
    Output c = tf.constant(Tensor.of(cv, d));
    Output other = sameShape(d).map(Value::out).orElse(c);
    String unary = List.of("Tanh", "Sigmoid", "Sin").get(cfRnd.nextInt(3));
    int trips = 1 + cfRnd.nextInt(3);
    if (cfRnd.nextBoolean()) {
      return () -> new Value(tf.whileLoop(v -> tf.less(v.get(0), tf.constant(trips)), v -> List.of(
          tf.add(v.get(0), tf.constant(1)),
          tf.opBuilder(unary).addInput(tf.add(tf.mul(v.get(1), c), other)).build().output(0)),
          List.of(tf.constant(0), a.out())).get(1), d);
    }
    return () -> new Value(tf.cond(tf.less(tf.reduceSum(a.out()), tf.reduceSum(other)),
        () -> List.of(tf.opBuilder(unary).addInput(tf.mul(a.out(), c)).build().output(0)),
        () -> List.of(tf.sub(a.out(), other))).get(0), d);
  }

  private Supplier<Value> reduction(Value a) {
    int rank = a.dims().length;
    List<Integer> axes = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      if (rnd.nextInt(3) == 0) {
        axes.add(i);
      }
    }
    boolean keep = rnd.nextBoolean();
    String op = List.of("Sum", "Mean", "Max").get(rnd.nextInt(3));
    int[] ax = axes.stream().mapToInt(Integer::intValue).toArray();
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      if (!axes.contains(i)) {
        out.add(a.dims()[i]);
      } else if (keep) {
        out.add(1);
      }
    }
    int[] od = out.stream().mapToInt(Integer::intValue).toArray();
    return () -> new Value(switch (op) {
      case "Sum" -> tf.reduceSum(a.out(), ax, keep);
      case "Mean" -> tf.reduceMean(a.out(), ax, keep);
      default -> tf.reduceMax(a.out(), ax, keep);
    }, od);
  }

  private Supplier<Value> matmul(Value a) {
    int[] d = a.dims();
    int m = d.length == 2 ? d[0] : 1 + rnd.nextInt(3);
    int k = d.length == 2 ? d[1] : Arrays.stream(d).reduce(1, (p, q) -> p * q);
    Output left = d.length == 2 ? a.out() : null;
    int n = 1 + rnd.nextInt(4);
    Value w = constant(new int[] {k, n});
    if (left == null) {
      // Reshape to [1, k] first: a vector (or higher rank) input becomes a row.
      return () -> new Value(tf.matmul(tf.reshape(a.out(), Shape.of(1, k)), w.out()), new int[] {1, n});
    }
    boolean tb = rnd.nextBoolean();
    Value wt = tb ? new Value(tf.transpose(w.out(), 1, 0), new int[] {n, k}) : w;
    return () -> new Value(tf.matmul(left, wt.out(), false, tb), new int[] {m, n});
  }

  private Supplier<Value> layout(Value a) {
    int[] d = a.dims();
    int rank = d.length;
    int choice = rnd.nextInt(3);
    if (rank == 0) {
      return () -> new Value(tf.identity(a.out()), d);
    }
    int axis = rnd.nextInt(rank);
    return switch (choice) {
      case 0 -> {
        boolean two = rnd.nextBoolean();
        int[] out = d.clone();
        if (two) {
          out[axis] *= 2;
        }
        yield () -> new Value(tf.concat(two ? List.of(a.out(), a.out()) : List.of(a.out()), axis), out);
      }
      case 1 -> {
        int[] begin = new int[rank];
        int[] size = new int[rank];
        int[] out = d.clone();
        Arrays.fill(size, -1);
        if (rnd.nextBoolean() && d[axis] > 1) {
          begin[axis] = 1;
          out[axis] = d[axis] - 1;
        }
        yield () -> new Value(tf.slice(a.out(), begin, size), out);
      }
      default -> {
        int[] pads = new int[2 * rank];
        int[] out = d.clone();
        if (rnd.nextBoolean()) {
          pads[2 * axis + 1] = 1;
          out[axis] += 1;
        }
        yield () -> new Value(tf.pad(a.out(), pads), out);
      }
    };
  }

  /**
   * A constant of ones or zeros (the simplifier's patterns): a scalar, one that broadcasts into
   * {@code d}, or one that widens d (where x*1 must stay).
   */
  private Value special(int[] d) {
    int[] shape = switch (rnd.nextInt(3)) {
      case 0 -> new int[0];
      case 1 -> suffixOrSame(d);
      default -> widened(d);
    };
    float v = rnd.nextBoolean() ? 1f : 0f;
    float[] data = new float[Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
    Arrays.fill(data, v);
    return new Value(tf.constant(Tensor.of(data, shape)), shape);
  }

  /** Ones, or values in [0.5, 2), broadcasting into {@code d}. */
  private Value divisor(int[] d) {
    int[] shape = rnd.nextBoolean() ? new int[0] : suffixOrSame(d);
    float[] data = new float[Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
    boolean ones = rnd.nextBoolean();
    for (int i = 0; i < data.length; i++) {
      data[i] = ones ? 1f : 0.5f + 1.5f * rnd.nextFloat();
    }
    return new Value(tf.constant(Tensor.of(data, shape)), shape);
  }

  /** A value from the pool whose shape broadcasts with {@code d}, else a new constant that does. */
  private Value partner(int[] d) {
    for (int tries = 0; tries < 6; tries++) {
      Value v = pick();
      if (broadcast(d, v.dims()) != null) {
        return v;
      }
    }
    return constant(suffixOrSame(d));
  }

  private Optional<Value> sameShape(int[] d) {
    for (int i = pool.size() - 1; i >= 0; i--) {
      Value v = pool.get(i);
      if (Arrays.equals(v.dims(), d) && !v.out().op().isStateful() && v.out().shape().isFullyDefined()) {
        return Optional.of(v);
      }
    }
    return Optional.empty();
  }

  private Value pick() {
    // Later values are likelier, so chains grow deep.
    int n = pool.size();
    int i = Math.max(rnd.nextInt(n), rnd.nextInt(n));
    return pool.get(i);
  }

  private Value constant(int[] d) {
    if (rnd.nextInt(4) == 0) {
      for (Value v : pool) { // a duplicate constant, for CSE
        if (v.out().op().type().equals("Const") && Arrays.equals(v.dims(), d)) {
          return new Value(tf.constant(v.out().op().attrs().getTensor("value")), d);
        }
      }
    }
    return new Value(tf.constant(data(d)), d);
  }

  private Tensor data(int[] d) {
    float[] v = new float[Arrays.stream(d).reduce(1, (p, q) -> p * q)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return Tensor.of(v, d);
  }

  private int[] dims(int rank) {
    int[] d = new int[rank];
    for (int i = 0; i < rank; i++) {
      d[i] = 1 + rnd.nextInt(4);
    }
    return d;
  }

  /** {@code d}, a trailing part of it, or it with some dimensions set to 1: broadcasts into d. */
  private int[] suffixOrSame(int[] d) {
    int keep = rnd.nextInt(d.length + 1);
    int[] s = Arrays.copyOfRange(d, d.length - keep, d.length);
    for (int i = 0; i < s.length; i++) {
      if (rnd.nextInt(3) == 0) {
        s[i] = 1;
      }
    }
    return s;
  }

  /** A shape that {@code d} broadcasts to: a new leading dimension, or a 1 of d made 2. */
  private int[] widened(int[] d) {
    for (int i = 0; i < d.length; i++) {
      if (d[i] == 1 && d.length >= 3) {
        int[] w = d.clone();
        w[i] = 2;
        return w;
      }
    }
    if (d.length >= 3) {
      return d.clone();
    }
    int[] w = new int[d.length + 1];
    w[0] = 2;
    System.arraycopy(d, 0, w, 1, d.length);
    return w;
  }

  private int[] permutation(int n) {
    List<Integer> p = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      p.add(i);
    }
    java.util.Collections.shuffle(p, rnd);
    return p.stream().mapToInt(Integer::intValue).toArray();
  }

  private static int[] permute(int[] d, int[] perm) {
    int[] out = new int[perm.length];
    for (int i = 0; i < perm.length; i++) {
      out[i] = d[perm[i]];
    }
    return out;
  }

  /** NumPy broadcasting of run-time shapes, or null when they do not broadcast. */
  static int[] broadcast(int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] out = new int[r];
    for (int i = 0; i < r; i++) {
      int x = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
      int y = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
      if (x != y && x != 1 && y != 1) {
        return null;
      }
      out[i] = Math.max(x, y);
    }
    return out;
  }
}
