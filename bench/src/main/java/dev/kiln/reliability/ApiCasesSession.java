package dev.kiln.reliability;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Result;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.SessionOptions;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Bad lookups by name, and Session misuse: closed, wrong feeds and fetches, nulls, foreign nodes. */
final class ApiCasesSession {
  private ApiCasesSession() {}

  static List<ApiCase> all() {
    CaseList c = new CaseList();
    lookups(c);
    feedsAndFetches(c);
    misuse(c);
    return c.list();
  }

  private static void lookups(CaseList c) {
    c.group("graph lookup");
    c.one("operation('nope')", f -> () -> f.g.operation("nope"), "nope");
    c.one("operation(null)", f -> () -> f.g.operation(null), "null", "name");
    c.one("output('nope')", f -> () -> f.g.output("nope"), "nope");
    c.one("output('x:1')", f -> () -> f.g.output("x:1"), "x:1", "output");
    c.one("output('x:99999999999')", f -> () -> f.g.output("x:99999999999"), "99999999999", "x");
    c.one("output('')", f -> () -> f.g.output(""), "''", "name", "empty");
    c.one("output(null)", f -> () -> f.g.output(null), "null", "name");
    c.one("output('init') (0 outputs)", f -> () -> f.g.output("init"), "init", "output");
    c.one("Graph.parse((String) null)", f -> () -> Graph.parse((String) null), "null", "text");
    c.one("Graph.parse(text, null file name)", f -> () -> Graph.parse("graph {}", null), "null", "file");
    c.one("Graph.parse(missing file)", f -> () -> Graph.parse(Path.of("/nonexistent/dir/missing.kg")), "missing.kg");
    c.one("Graph.parse('graph { %a = Bogus() }')", f -> () -> Graph.parse("graph { %a = Bogus() }"), "Bogus", "1:");
    c.one("op.output(1) of a one-output node", f -> () -> f.x.op().output(1), "1", "output");
    c.one("op.input(5) of a node with 2 inputs", f -> () -> f.y.op().input(5), "5", "input");
  }

  private static void feedsAndFetches(CaseList c) {
    c.group("feeds/fetches");
    c.one("feed x f32[?,3] an i32[2,3]", f -> () -> f.s.run(Map.of(f.x, Tensor.of(new int[6], 2, 3)), f.y), "x", "i32");
    c.one("feed x f32[?,3] an f64[2,3]", f -> () -> f.s.run(Map.of(f.x, Tensor.of(new double[6], 2, 3)), f.y), "x", "f64");
    c.one("feed x f32[?,3] an f32[3] (rank 1)", f -> () -> f.s.run(Map.of(f.x, Tensor.of(new float[3], 3)), f.y), "x", "[3]");
    c.one("feed x f32[?,3] an f32[2,4]", f -> () -> f.s.run(Map.of(f.x, Tensor.of(new float[8], 2, 4)), f.y), "x", "[2,4]");
    c.one("feed x f32[?,3] a scalar", f -> () -> f.s.run(Map.of(f.x, Tensor.scalar(1f)), f.y), "x", "[]", "scalar");
    c.one("feed xi i32[3] a bool[3]", f -> () -> f.s.run(Map.of(f.xi, Tensor.of(new boolean[3], 3)), f.xi), "xi", "bool");
    c.one("run y without feeding x", f -> () -> f.s.run(Map.of(), f.y), "x", "feed");
    c.one("run((Map) null, y)", f -> () -> f.s.run((Map<Output, Tensor>) null, f.y), "null", "feed");
    c.one("run(feeds, (Output[]) null)", f -> () -> f.s.run(Map.of(f.x, f.xv()), (Output[]) null), "null", "fetch");
    c.one("run(feeds, (Output) null)", f -> () -> f.s.run(Map.of(f.x, f.xv()), (Output) null), "null", "fetch");
    c.one("run(feeds with a null value)", f -> () -> {
      Map<Output, Tensor> m = new HashMap<>();
      m.put(f.x, null);
      return f.s.run(m, f.y);
    }, "null", "x", "feed");
    c.one("run((Operation[]) null)", f -> () -> { f.s.run((Operation[]) null); return null; }, "null", "target");
    c.one("run((Operation) null)", f -> () -> { f.s.run((Operation) null); return null; }, "null", "target");
    c.one("fetch an output of another graph", f -> () -> f.s.run(Map.of(f.x, f.xv()), f.ox), "graph", "x");
    c.one("feed an output of another graph", f -> () -> f.s.run(Map.of(f.ox, f.xv()), f.y), "graph", "x");
    c.one("target a node of another graph", f -> () -> { f.s.run(f.ow.initializer()); return null; }, "graph", "w/Assign", "Assign");
    c.one("runner().feed('nope', t)", f -> () -> f.s.runner().feed("nope", f.xv()), "nope");
    c.one("runner().fetch('nope')", f -> () -> f.s.runner().fetch("nope"), "nope");
    c.one("runner().fetch('y:3')", f -> () -> f.s.runner().fetch("y:3"), "y:3", "output");
    c.one("runner().addTarget('nope')", f -> () -> f.s.runner().addTarget("nope"), "nope");
    c.one("runner() feeding x twice", f -> () -> f.s.runner().feed(f.x, f.xv()).feed(f.x, f.xv()), "x", "already", "twice");
    c.one("runner().feed(null, t)", f -> () -> f.s.runner().feed((Output) null, f.xv()), "null", "feed");
    c.one("runner().feed(x, null)", f -> () -> f.s.runner().feed(f.x, null), "null", "x");
    c.one("runner().fetch((String) null)", f -> () -> f.s.runner().fetch((String) null), "null", "fetch", "name");
    c.one("Div(xi, 0) on integers", f -> {
      Output d = f.tf.div(f.xi, f.tf.constant(Tensor.of(new int[] {0, 0, 0}, 3)));
      return () -> f.s.run(Map.of(f.xi, Tensor.of(new int[] {1, 2, 3}, 3)), d);
    }, "Div", "zero");
    c.one("Div by zero after assignAdd(w) in the same run (must roll back w)", f -> {
      Output a = f.tf.assignAdd(f.w, f.tf.constant(Tensor.of(new float[] {1, 1, 1, 1, 1, 1}, 3, 2)));
      Output d = f.tf.withControlDependencies(List.of(a.op())).div(f.xi, f.tf.constant(Tensor.of(new int[] {0, 0, 0}, 3)));
      return () -> f.s.run(Map.of(f.xi, Tensor.of(new int[] {1, 2, 3}, 3)), d);
    }, "Div", "zero");
  }

  private static void misuse(CaseList c) {
    c.group("session misuse");
    c.one("run on a closed Session", f -> {
      Session s = new Session(f.g);
      s.close();
      return () -> s.run(Map.of(f.x, f.xv()), f.y);
    }, "closed");
    c.one("variableValue on a closed Session", f -> {
      Session s = new Session(f.g);
      s.run(f.init);
      s.close();
      return () -> s.variableValue(f.w);
    }, "closed");
    c.one("runner() on a closed Session", f -> {
      Session s = new Session(f.g);
      s.close();
      return () -> s.runner().fetch(f.x).feed(f.x, f.xv()).run();
    }, "closed");
    c.one("new Session(null)", f -> () -> new Session(null), "graph", "null");
    c.one("new Session(g, null options)", f -> () -> new Session(f.g, null), "options", "null");
    c.one("variableValue(null)", f -> () -> f.s.variableValue(null), "null", "variable");
    c.one("variableValue of another graph's variable", f -> () -> f.s.variableValue(f.ow), "graph", "w");
    c.one("variableValue of an uninitialized variable", f -> {
      Variable v = f.tf.variable("uninit_" + f.g.size(), f.f32(2));
      return () -> f.s.variableValue(v);
    }, "uninit_", "initialized");
    c.one("fetch a value needing an uninitialized variable", f -> {
      Variable v = f.tf.variable("uninit_" + f.g.size(), f.f32(2));
      Output r = f.tf.mul(v, f.tf.constant(2f));
      return () -> f.s.run(Map.of(), r);
    }, "uninit_", "initialized");
    c.one("assignVariables(w <- f32[2,3])", f -> () -> {
      f.s.assignVariables(Map.of(f.w, Tensor.of(new float[6], 2, 3)));
      return null;
    }, "w", "[2,3]");
    c.one("assignVariables(w <- f64[3,2])", f -> () -> {
      f.s.assignVariables(Map.of(f.w, Tensor.of(new double[6], 3, 2)));
      return null;
    }, "w", "f64");
    c.one("assignVariables(other graph's w)", f -> () -> {
      f.s.assignVariables(Map.of(f.ow, Tensor.of(new float[6], 3, 2)));
      return null;
    }, "w", "graph");
    c.one("assignVariables(null)", f -> () -> {
      f.s.assignVariables(null);
      return null;
    }, "null", "values", "variables");
    c.one("assignVariables({w: null})", f -> () -> {
      Map<Variable, Tensor> m = new HashMap<>();
      m.put(f.w, null);
      f.s.assignVariables(m);
      return null;
    }, "null", "w");
    c.one("assignVariables(one good, one bad): no half-applied state", f -> {
      Variable v2 = f.tf.variable("v_pair_" + f.g.size(), f.f32(2));
      Map<Variable, Tensor> m = new java.util.LinkedHashMap<>();
      m.put(f.w, Tensor.of(new float[6], 3, 2));
      m.put(v2, Tensor.of(new float[3], 3));
      return () -> {
        f.s.assignVariables(m);
        return null;
      };
    }, "v_pair_", "[3]", "[2]");
    c.one("SessionOptions maxCachedPlans(0)", f -> () -> SessionOptions.builder().maxCachedPlans(0), "maxCachedPlans", "0");
    c.one("SessionOptions framesPerPlan(-1)", f -> () -> SessionOptions.builder().framesPerPlan(-1), "framesPerPlan", "-1");
    c.one("SessionOptions disablePass('nope')", f -> () -> SessionOptions.builder().disablePass("nope"), "nope", "pass");
    c.one("SessionOptions disablePass(null)", f -> () -> SessionOptions.builder().disablePass(null), "null", "pass");
    c.one("SessionOptions device('/tpu:0')", f -> () -> SessionOptions.builder().device("/tpu:0"), "/tpu:0", "device");
    c.one("SessionOptions device(null)", f -> () -> SessionOptions.builder().device(null), "null", "device");
    c.one("Result.get(5) of a one-fetch runNoCopy", f -> () -> {
      try (Result r = f.s.runner().feed(f.x, f.xv()).fetch(f.y).runNoCopy()) {
        return r.get(5);
      }
    }, "5", "index", "fetch");
    c.one("Result.get(x) not fetched", f -> () -> {
      try (Result r = f.s.runner().feed(f.x, f.xv()).fetch(f.y).runNoCopy()) {
        return r.get(f.x);
      }
    }, "x", "fetched");
    c.one("read a lent variable after its Result closed", f -> () -> {
      Tensor lent;
      try (Result r = f.s.runner().fetch(f.w).runNoCopy()) {
        lent = r.get(0);
      }
      return lent.toFloatArray();
    }, "closed", "loan", "Result", "lent");
    c.one("assign w while a Result lends it", f -> {
      Output a = f.tf.assign(f.w, f.tf.constant(Tensor.of(ApiFixture.W, 3, 2)));
      return () -> {
        try (Result r = f.s.runner().fetch(f.w).runNoCopy()) {
          f.s.run(a.op());
          return r;
        }
      };
    }, "w", "lent", "Result");
    c.one("runner().feed('x:7', t)",
        f -> () -> f.s.runner().feed("x:7", f.xv()), "x:7", "output");
    c.one("feed xd f64[3] an f32[3]",
        f -> { Output r = f.tf.mul(f.xd, f.tf.constant(2.0)); return () -> f.s.run(Map.of(f.xd, Tensor.of(new float[3], 3)), r); },
        "xd", "f32", "f64");
    c.one("feed xi i32[3] an i32[2,3]",
        f -> () -> f.s.run(Map.of(f.xi, Tensor.of(new int[6], 2, 3)), f.xi), "xi", "[2,3]");
    c.one("Shape-typed placeholder [2] fed [3]", f -> {
      Output p = f.tf.placeholder("p2_" + f.g.size(), DType.FLOAT32, Shape.of(2));
      Output r = f.tf.neg(p);
      return () -> f.s.run(Map.of(p, Tensor.of(new float[3], 3)), r);
    }, "p2_", "[3]", "[2]");
  }
}
