package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the optimizer must never change in a Session: stateful ops (assigns, random draws), control
 * dependencies, fed values (a fed intermediate is not folded away), fetches (a fetched intermediate
 * stays observable); and that it runs, can be switched off, pass by pass.
 */
class OptimizedSessionTest {
  private static final SessionOptions OFF = SessionOptions.builder().optimize(false).build();

  @Test
  void aFedIntermediateIsNotFoldedAway() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output c = tf.add(tf.constant(new float[] {1, 2}), tf.constant(new float[] {10, 20}));
    Output y = tf.mul(c, tf.constant(2f));
    try (Session s = new Session(g)) {
      assertArrayEquals(new float[] {22, 44}, s.run(Map.of(), y).get(0).toFloatArray());
      // Fed: y = feed * 2, not the folded (1+10)*2.
      assertArrayEquals(new float[] {-2, 6}, s.run(Map.of(c, Tensor.of(new float[] {-1, 3}, 2)), y).get(0).toFloatArray());
      // A fed constant is not a constant either.
      Output k = tf.constant(5f);
      Output z = tf.neg(tf.mul(k, tf.constant(1f)));
      assertEquals(-7f, s.run(Map.of(k, Tensor.scalar(7f)), z).get(0).floatValue());
    }
  }

  @Test
  void fedVariablesAndUnneededFeedsWork() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable v = tf.variable("v", tf.constant(new float[] {1, 2}));
    Output y = tf.add(tf.mul(v, tf.constant(2f)), tf.constant(0f));
    Output unused = tf.placeholder("unused", DType.FLOAT32, Shape.of(1));
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      try (Session s = new Session(g, o)) {
        // v is never initialized: its fed value stands in for it.
        Map<Output, Tensor> feeds = Map.of(v, Tensor.of(new float[] {7, -1}, 2), unused, Tensor.of(new float[] {0}, 1));
        assertArrayEquals(new float[] {14, -2}, s.run(feeds, y).get(0).toFloatArray(), o.toString());
        assertEquals("Variable 'v' is uninitialized: run its initializer first",
            assertThrows(IllegalStateException.class, () -> s.run(Map.of(), y)).getMessage());
      }
    }
  }

  @Test
  void aFetchedIntermediateStaysObservable() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output inner = tf.neg(x);
    Output outer = tf.neg(inner); // simplifies to x
    Output same = tf.identity(tf.identity(outer));
    Output folded = tf.exp(tf.constant(0f));
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(x, Tensor.of(new float[] {1, -2, 3}, 3)), inner, outer, same, folded);
      assertArrayEquals(new float[] {-1, 2, -3}, r.get(0).toFloatArray());
      assertArrayEquals(new float[] {1, -2, 3}, r.get(1).toFloatArray());
      assertArrayEquals(new float[] {1, -2, 3}, r.get(2).toFloatArray());
      assertEquals(Tensor.scalar(1f), r.get(3));
      // Fetched values belong to the caller: fetching x twice through simplified nodes gives copies.
      assertEquals(r.get(1), r.get(2));
    }
  }

  @Test
  void controlDependenciesOfFoldedNodesStillRun() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable counter = tf.variable("counter", tf.constant(0f));
    Output tick = tf.assignAdd(counter, tf.constant(1f));
    // A constant expression that waits for the tick: folding must keep the dependency.
    Output c = tf.withControlDependencies(List.of(tick.op())).constant(3f);
    Output y = tf.mul(tf.add(c, tf.constant(1f)), tf.constant(1f));
    try (Session s = new Session(g)) {
      s.run(counter.initializer());
      for (int i = 0; i < 3; i++) {
        assertEquals(4f, s.run(Map.of(), y).get(0).floatValue());
      }
      assertEquals(3f, s.variableValue(counter).floatValue());
    }
  }

  @Test
  void aNodeOthersWaitForIsNotReplacedByWhatItReads() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    Output m = tf.mul(x, tf.constant(1f));
    Output y = tf.withControlDependencies(List.of(m.op())).neg(tf.constant(3f));
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      try (Session s = new Session(g, o)) {
        assertEquals(-3f, s.run(Map.of(x, Tensor.of(new float[] {1, 2}, 2)), y).get(0).floatValue(), o.toString());
      }
    }
  }

  @Test
  void randomDrawsAreNeitherFoldedNorMergedAndContinueAcrossPlans() {
    float[][] on = draws(SessionOptions.defaults());
    float[][] off = draws(OFF);
    for (int i = 0; i < on.length; i++) {
      assertArrayEquals(off[i], on[i], "draw " + i);
    }
    // r1 and r2 have the same seed, so their first draws agree; each node has its own stream, so
    // r2's second draw (third run) is r1's second draw (second run). Merged, r2 would draw r1's third.
    assertArrayEquals(on[0], on[1]);
    assertArrayEquals(on[2], on[3]);
    assertEquals(false, java.util.Arrays.equals(on[0], on[2]));
  }

  /** r1, r2 (equal random nodes) in a first plan, r1 + 0 in a second, r2 in a third. */
  private static float[][] draws(SessionOptions options) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output r1 = tf.randomUniform(Shape.of(4), 9);
    Output r2 = tf.randomUniform(Shape.of(4), 9);
    Output r1plus0 = tf.add(r1, tf.constant(0f));
    try (Session s = new Session(g, options)) {
      List<Tensor> a = s.run(Map.of(), r1, r2);
      Tensor b = s.run(Map.of(), r1plus0).get(0);
      Tensor c = s.run(Map.of(), r2).get(0);
      return new float[][] {a.get(0).toFloatArray(), a.get(1).toFloatArray(), b.toFloatArray(), c.toFloatArray()};
    }
  }

  @Test
  void variablesKeepTheirStateAcrossOptimizedPlans() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable v = tf.variable("v", tf.constant(new float[] {1, 2}));
    // The update is v * (1 * 2) + 0: folding and simplification rewrite it, the assign stays.
    Output twice = tf.add(tf.mul(v, tf.mul(tf.constant(1f), tf.constant(2f))), tf.constant(0f));
    Operation step = tf.assign(v, twice).op();
    Output read = tf.identity(v);
    try (Session s = new Session(g)) {
      s.run(v.initializer());
      s.run(step);
      s.run(step);
      assertArrayEquals(new float[] {4, 8}, s.run(Map.of(), read).get(0).toFloatArray());
      assertArrayEquals(new float[] {4, 8}, s.variableValue(v).toFloatArray());
      // Fetching the read and the assign in one run: the read sees the value from before the assign.
      List<Tensor> r = s.run(Map.of(), read, twice);
      assertArrayEquals(new float[] {4, 8}, r.get(0).toFloatArray());
      assertArrayEquals(new float[] {8, 16}, r.get(1).toFloatArray());
    }
  }

  @Test
  void aFusedUpdateThatReadsItsVariableTwiceIsAssignedCorrectly() {
    // v <- exp(v * 0.5) + v * 2: the update fuses into one node that reads v, and its result goes
    // back into v; a second read of v inside the body, and another reader of v in the same run,
    // must still see the old value.
    int n = 100_003; // vector blocks, a tail, and both cores
    float[] init = new float[n];
    for (int i = 0; i < n; i++) {
      init[i] = (i % 97) / 50f - 1;
    }
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable v = tf.variable("v", tf.constant(Tensor.of(init, n)));
    Output update = tf.add(tf.exp(tf.mul(v, tf.constant(0.5f))), tf.mul(v, tf.constant(2f)));
    Output assigned = tf.assign(v, update);
    Output other = tf.neg(v); // another reader of v in the same run: sees the old value
    for (SessionOptions opts : List.of(SessionOptions.defaults(), OFF)) {
      try (Session s = new Session(g, opts)) {
        s.run(v.initializer());
        float[] old = init.clone();
        for (int step = 0; step < 3; step++) {
          List<Tensor> r = s.run(Map.of(), assigned, other);
          float[] got = r.get(0).toFloatArray();
          float[] neg = r.get(1).toFloatArray();
          for (int i = 0; i < n; i++) {
            float want = (float) Math.exp(old[i] * 0.5f) + old[i] * 2f;
            assertEquals(want, got[i], Math.abs(want) * 1e-6f + 1e-6f, "element " + i + " of step " + step);
            assertEquals(-old[i], neg[i], 0f, "old value of element " + i);
            old[i] = got[i];
          }
          assertArrayEquals(got, s.variableValue(v).toFloatArray());
        }
      }
    }
  }

  @Test
  void aCopyOfAVariableIsNotSimplifiedIntoALaterRead() {
    // m = v*1 reads v before the run's assign; c, ordered after the assign, reads m, so it sees the
    // old value. Replacing m by v would make c read v after the assign.
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Variable v = tf.variable("v", tf.constant(1f));
      Output set = tf.assign(v, tf.constant(5f));
      Output m = tf.mul(v, tf.constant(1f));
      Output nn = tf.neg(tf.neg(v));
      Ops after = tf.withControlDependencies(List.of(set.op()));
      Output c = after.neg(m);
      Output d = after.neg(nn);
      Output e = after.neg(tf.identity(v)); // a view: e itself reads v, after the assign
      try (Session s = new Session(g, o)) {
        s.run(v.initializer());
        List<Tensor> r = s.run(Map.of(), c, d, e);
        assertEquals(List.of(Tensor.scalar(-1f), Tensor.scalar(-1f), Tensor.scalar(-5f)), r, o.toString());
      }
    }
  }

  @Test
  void theOptimizerRemovesWorkThatSwitchingItOffKeeps() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1000));
    Output v = x;
    for (int i = 0; i < 20; i++) {
      v = tf.neg(v);
    }
    Output a = tf.exp(v);
    Output b = tf.exp(v);
    Output out = tf.add(a, b);
    Map<Output, Tensor> feed = Map.of(x, Tensor.of(new float[1000], 1000));
    try (Session on = new Session(g); Session off = new Session(g, OFF);
        Session noFuse = new Session(g, SessionOptions.builder().disablePass("fuse").build());
        Session noCse = new Session(g, SessionOptions.builder().disablePass("cse").disablePass("fuse").build());
        Session noSimplify = new Session(g, SessionOptions.builder().disablePass("simplify").disablePass("fuse").build())) {
      float[] expected = new float[1000];
      java.util.Arrays.fill(expected, 2f);
      for (Session s : List.of(on, off, noFuse, noCse, noSimplify)) {
        assertArrayEquals(expected, s.run(feed, out).get(0).toFloatArray());
      }
      // Kernels of the plans (+1 the fetch copy): exp and add fused into one; without fusion one exp
      // and the add; two exps without cse; 20 negs more without simplify.
      assertEquals(1 + 1, kernels(on));
      assertEquals(2 + 1, kernels(noFuse));
      assertEquals(3 + 1, kernels(noCse));
      assertEquals(22 + 1, kernels(noSimplify));
      assertEquals(23 + 1, kernels(off));
    }
  }

  /** Kernels of a Session's only plan, fetch copies included. */
  private static int kernels(Session s) {
    return s.plans().iterator().next().kernels.length;
  }

  @Test
  void errorsAreTheSameWithAndWithoutTheOptimizer() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 3));
    Output y = tf.mul(x, tf.constant(1f));
    Output q = tf.div(tf.constant(Tensor.of(new int[] {1, 2}, 2)), tf.constant(Tensor.of(new int[] {0, 1}, 2)));
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      try (Session s = new Session(g, o)) {
        assertEquals("Placeholder 'x': no value fed for f32[?,3] (the run needs it)",
            assertThrows(IllegalArgumentException.class, () -> s.run(Map.of(), y)).getMessage());
        assertEquals("Placeholder 'x': fed f32[2,2], expected f32[?,3]", assertThrows(IllegalArgumentException.class,
            () -> s.run(Map.of(x, Tensor.of(new float[4], 2, 2)), y)).getMessage());
        // Integer division by zero is the run's error, not the compiler's: folding leaves it.
        RuntimeException e = assertThrows(RuntimeException.class, () -> s.run(Map.of(), q));
        assertEquals(ArithmeticException.class, e.getClass());
      }
    }
    assertEquals("unknown pass 'fold2' (known: prune, fold, cse, loops, simplify, fuse_matmul_update, fuse_matmul, fuse_conv, fuse)",
        assertThrows(IllegalArgumentException.class, () -> SessionOptions.builder().disablePass("fold2")).getMessage());
    SessionOptions noFold = SessionOptions.builder().disablePass("fold").disablePass("cse").build();
    assertEquals(java.util.Set.of("fold", "cse"), noFold.disabledPasses());
    assertEquals(true, noFold.toString().endsWith(", disabledPasses=[cse, fold])"), noFold.toString());
  }

  @Test
  void cpuConstantEvaluatorRunsTheKernels() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output a = tf.constant(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
    Output b = tf.constant(Tensor.of(new float[] {10, 20, 30}, 3));
    Output sum = tf.add(a, b);
    Output t = tf.transpose(a, 1, 0);
    Output r = tf.reshape(a, 3, 2);
    CpuConstantEvaluator e = CpuConstantEvaluator.instance();
    Tensor av = a.op().attrs().getTensor("value");
    Tensor bv = b.op().attrs().getTensor("value");
    assertEquals(Tensor.of(new float[] {11, 22, 33, 14, 25, 36}, 2, 3), e.evaluate(sum.op(), List.of(av, bv)).get(0));
    assertEquals(Tensor.of(new float[] {1, 4, 2, 5, 3, 6}, 3, 2), e.evaluate(t.op(), List.of(av)).get(0));
    assertEquals(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2), e.evaluate(r.op(), List.of(av)).get(0));
    Output v = tf.variable("w", a);
    assertEquals("Variable 'w': a stateful op is not a constant",
        assertThrows(IllegalArgumentException.class, () -> e.evaluate(v.op(), List.of(av))).getMessage());
  }

  @Test
  void aReaderOfAVariableThatUsesAFusedValueReadsItBeforeTheAssign() {
    // Seeds 714 and 3043 of the differential test: s = 1 - x waits for no assign, n = -s and the
    // bias b wait for the assign. r = v + exp(s) and y = x.v + b read v before the assign; fusing s
    // with n (or the MatMul with the bias add) ordered them after it, so they saw v + x.
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable v = tf.variable("v", tf.constant(Tensor.of(new float[] {1, 2}, 1, 2)));
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1, 2));
    Output upd = tf.assignAdd(v, x);
    Ops after = tf.withControlDependencies(List.of(upd.op()));
    Output sub = tf.sub(tf.constant(1f), x);
    Output n = after.neg(sub);
    Output r = tf.add(v, tf.exp(sub));
    Output y = tf.add(tf.matmul(x, v, false, true), after.exp(tf.constant(new float[] {0})));
    float[] xv = {0.5f, -1};
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      try (Session s = new Session(g, o)) {
        s.run(v.initializer());
        List<Tensor> out = s.runner().feed(x, Tensor.of(xv, 1, 2)).fetch(r).fetch(n).fetch(y).addTarget(upd.op()).run();
        assertArrayEquals(new float[] {1 + (float) Math.exp(0.5), 2 + (float) Math.exp(2)}, out.get(0).toFloatArray(),
            1e-6f, o.toString());
        assertArrayEquals(new float[] {-0.5f, -2}, out.get(1).toFloatArray(), o.toString());
        assertArrayEquals(new float[] {0.5f * 1 - 1 * 2 + 1}, out.get(2).toFloatArray(), o.toString());
        assertArrayEquals(new float[] {1.5f, 1}, s.variableValue(v).toFloatArray(), o.toString());
      }
    }
  }

  @Test
  void fusedReadersOfAssignedVariablesReadThemWhereTheirNodesWould() {
    // v <- u*2 + 1 and u <- v*3 - 1 in one run: each fused update reads the other's variable before
    // its assign. An AssignAdd to w: q = w*2 reads w before it; in p = exp(w) * 3 only the Mul waits
    // for it, so exp reads w before it (and must not fuse with the Mul); r = exp(w) * 3 with both
    // nodes waiting for it fuses and reads w after it.
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable v = tf.variable("v", tf.constant(new float[] {1, -2}));
    Variable u = tf.variable("u", tf.constant(new float[] {0.5f, 3}));
    Variable w = tf.variable("w", tf.constant(new float[] {0.25f, -1}));
    Output setV = tf.assign(v, tf.add(tf.mul(u, tf.constant(2f)), tf.constant(1f)));
    Output setU = tf.assign(u, tf.sub(tf.mul(v, tf.constant(3f)), tf.constant(1f)));
    Output addW = tf.assignAdd(w, tf.constant(new float[] {1, 1}));
    Output q = tf.mul(w, tf.constant(2f));
    Ops after = tf.withControlDependencies(List.of(addW.op()));
    Output p = after.mul(tf.exp(w), tf.constant(3f));
    Output r = after.mul(after.exp(w), tf.constant(3f));
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      try (Session s = new Session(g, o)) {
        s.run(tf.globalVariablesInitializer());
        float[] vv = {1, -2};
        float[] uv = {0.5f, 3};
        float[] wv = {0.25f, -1};
        for (int step = 0; step < 2; step++) {
          List<Tensor> out = s.runner().fetch(q).fetch(r).fetch(p).addTarget(setV.op()).addTarget(setU.op())
              .addTarget(addW.op()).run();
          float[] newV = {uv[0] * 2 + 1, uv[1] * 2 + 1};
          float[] newU = {vv[0] * 3 - 1, vv[1] * 3 - 1};
          float[] newW = {wv[0] + 1, wv[1] + 1};
          assertArrayEquals(new float[] {wv[0] * 2, wv[1] * 2}, out.get(0).toFloatArray(), o.toString());
          assertArrayEquals(new float[] {(float) Math.exp(newW[0]) * 3, (float) Math.exp(newW[1]) * 3},
              out.get(1).toFloatArray(), 1e-5f, o.toString());
          assertArrayEquals(new float[] {(float) Math.exp(wv[0]) * 3, (float) Math.exp(wv[1]) * 3},
              out.get(2).toFloatArray(), 1e-5f, o.toString());
          assertArrayEquals(newV, s.variableValue(v).toFloatArray(), o.toString());
          assertArrayEquals(newU, s.variableValue(u).toFloatArray(), o.toString());
          assertArrayEquals(newW, s.variableValue(w).toFloatArray(), o.toString());
          vv = newV;
          uv = newU;
          wv = newW;
        }
      }
    }
  }
}
