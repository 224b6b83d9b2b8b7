package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.TensorArray;
import dev.kiln.graph.TensorType;
import dev.kiln.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.onnx.proto.OnnxProto.ValueInfoProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * If, Loop and Scan onto {@link Ops#cond} and {@link Ops#whileLoop}. A body's references to values of
 * the enclosing graphs resolve through the importer's names and are captured by the control-flow
 * builders. Scan outputs are buffers of the iteration count's length (a {@link TensorArray}), filled one
 * row per iteration, as Kiln's loop values keep their shape.
 */
final class ControlFlowMappers {
  private ControlFlowMappers() {}

  static void register(Map<String, Mapper> m) {
    m.put("If", ControlFlowMappers::ifNode);
    m.put("Loop", ControlFlowMappers::loop);
    m.put("Scan", ControlFlowMappers::scan);
  }

  private static GraphProto body(Node n, String attr) {
    AttributeProto a = n.attr(attr).orElseThrow(() -> n.error("graph attribute '" + attr + "' is missing"));
    if (!a.hasG()) {
      throw n.error("attribute '" + attr + "' is not a graph");
    }
    return a.getG();
  }

  private static String what(Node n, String attr) {
    return n.label() + " " + attr;
  }

  /** A one-element tensor (ONNX allows shape [] or [1] for conditions and trip counts) as a scalar. */
  private static Output scalar(Node n, Output x, String what) {
    Shape s = x.shape();
    if (s.hasKnownRank() && s.rank() == 0) {
      return x;
    }
    if (s.isFullyDefined() && s.numElements() == 1) {
      return n.ops.reshape(x, Shape.scalar());
    }
    throw n.unsupported(what + " '" + x.name() + "' must hold one element, got " + x.type());
  }

  /** A one-element condition's value. */
  private static boolean truth(dev.kiln.graph.Tensor t) {
    return t.dtype() == DType.BOOL ? t.toBooleanArray()[0] : t.toDoubleArray()[0] != 0;
  }

  private static void ifNode(Node n) {
    GraphProto thenG = body(n, "then_branch");
    GraphProto elseG = body(n, "else_branch");
    Output pred = scalar(n, n.in(0), "the condition");
    List<Output> r;
    var known = n.constIn(0);
    if (known.isPresent()) {
      // A condition known at import selects its branch here, which keeps its values foldable.
      boolean taken = truth(known.get());
      r = n.imp.subgraph(taken ? thenG : elseG, List.of(), n.opset, what(n, taken ? "then_branch" : "else_branch"));
    } else {
      r = n.ops.cond(pred, () -> n.imp.subgraph(thenG, List.of(), n.opset, what(n, "then_branch")),
          () -> n.imp.subgraph(elseG, List.of(), n.opset, what(n, "else_branch")));
    }
    if (r.size() < n.numOutputs()) {
      throw n.error("the branches return " + r.size() + " value(s) for " + n.numOutputs() + " output(s)");
    }
    for (int j = 0; j < n.numOutputs(); j++) {
      n.out(j, r.get(j));
    }
  }

  /**
   * Loop variables: the iteration number (int64), the condition, the N carried values, then one buffer
   * per scan output; the Kiln condition is ONNX's condition and, with a trip count, iteration < M.
   */
  private static void loop(Node n) {
    GraphProto g = body(n, "body");
    Ops tf = n.ops;
    int carried = n.numInputs() - 2;
    if (carried < 0) {
      throw n.error("takes the trip count, the condition and the loop-carried values; got " + n.numInputs() + " input(s)");
    }
    if (g.getInputCount() != carried + 2) {
      throw n.error("the body takes " + g.getInputCount() + " input(s), expected " + (carried + 2)
          + " (iteration number, condition and " + carried + " loop-carried value(s))");
    }
    int scans = g.getOutputCount() - 1 - carried;
    if (scans < 0) {
      throw n.error("the body returns " + g.getOutputCount() + " output(s), expected at least " + (carried + 1));
    }
    Output trip = n.has(0) ? tf.cast(scalar(n, n.in(0), "the trip count"), DType.INT64) : null;
    Output cond0 = n.has(1) ? scalar(n, n.in(1), "the condition") : tf.constant(true);
    int length = 0;
    if (scans > 0) {
      // Kiln's loop values keep their shape, so a scan output is a [M, ...] buffer filled row by row.
      if (!n.has(0)) {
        throw n.unsupported("scan outputs need a trip count, which sizes them");
      }
      length = Math.toIntExact(Node.longs(n.requireConst(0, "the trip count, which sizes the scan outputs"))[0]);
      if (n.has(1) && !truth(n.requireConst(1, "the condition, with scan outputs"))) {
        length = 0;
      }
    }
    List<Output> init = new ArrayList<>();
    init.add(tf.constant(0L));
    init.add(cond0);
    for (int i = 0; i < carried; i++) {
      init.add(n.in(2 + i));
    }
    for (int k = 0; k < scans; k++) {
      init.add(buffer(n, g.getOutput(1 + carried + k), length, "scan output " + k));
    }
    List<Output> r;
    try {
      r = whileLoop(n, g, carried, scans, trip, init);
    } catch (UnsupportedOnnxException e) {
      r = unrolled(n, g, carried, scans).orElseThrow(() -> e);
    }
    for (int j = 0; j < carried + scans; j++) {
      n.out(j, r.get(2 + j));
    }
  }

  /** The most iterations a loop is unrolled to at import. */
  private static final int UNROLL_LIMIT = 64;

  /**
   * A loop whose body needs its iteration number at import (a Slice at that index, say), unrolled:
   * possible when the trip count and the starting condition are constants and every iteration's
   * condition folds. Empty when it is not; the caller then reports why the loop itself failed.
   */
  private static java.util.Optional<List<Output>> unrolled(Node n, GraphProto g, int carried, int scans) {
    Ops tf = n.ops;
    if (!n.has(0) || n.constIn(0).isEmpty() || n.has(1) && n.constIn(1).isEmpty()) {
      return java.util.Optional.empty();
    }
    long trip = Node.longs(n.constIn(0).get())[0];
    boolean go = !n.has(1) || truth(n.constIn(1).get());
    if (trip > UNROLL_LIMIT) {
      return java.util.Optional.empty();
    }
    Output cond = tf.constant(go);
    List<Output> carry = new ArrayList<>();
    for (int i = 0; i < carried; i++) {
      carry.add(n.in(2 + i));
    }
    List<List<Output>> rows = new ArrayList<>();
    for (int k = 0; k < scans; k++) {
      rows.add(new ArrayList<>());
    }
    for (long t = 0; go && t < trip; t++) {
      List<Output> params = new ArrayList<>();
      params.add(tf.constant(t));
      params.add(cond);
      params.addAll(carry);
      List<Output> out = n.imp.subgraph(g, params, n.opset, what(n, "body") + " (iteration " + t + ")");
      cond = scalar(n, out.get(0), "the body's condition");
      var known = n.imp.constant(cond);
      if (known.isEmpty()) {
        return java.util.Optional.empty();
      }
      go = truth(known.get());
      carry = new ArrayList<>(out.subList(1, 1 + carried));
      for (int k = 0; k < scans; k++) {
        rows.get(k).add(tf.expandDims(out.get(1 + carried + k), 0));
      }
    }
    List<Output> r = new ArrayList<>(List.of(tf.constant(0L), cond));
    r.addAll(carry);
    for (int k = 0; k < scans; k++) {
      r.add(rows.get(k).isEmpty() ? buffer(n, g.getOutput(1 + carried + k), 0, "scan output " + k)
          : rows.get(k).size() == 1 ? rows.get(k).get(0) : tf.concat(rows.get(k), 0));
    }
    return java.util.Optional.of(r);
  }

  private static List<Output> whileLoop(Node n, GraphProto g, int carried, int scans, Output trip, List<Output> init) {
    Ops tf = n.ops;
    return tf.whileLoop(v -> trip == null ? v.get(1) : tf.logicalAnd(v.get(1), tf.less(v.get(0), trip)), v -> {
      List<Output> params = new ArrayList<>(v.subList(0, 2 + carried));
      List<Output> out = n.imp.subgraph(g, params, n.opset, what(n, "body"));
      Output condOut = scalar(n, out.get(0), "the body's condition");
      if (scans > 0 && !alwaysTrue(n, condOut, v.get(1))) {
        throw n.unsupported("a loop with scan outputs must run its whole trip count, but the body computes its"
            + " condition, so the scan outputs' length would be known only at run time");
      }
      List<Output> next = new ArrayList<>();
      next.add(tf.add(v.get(0), tf.constant(1L)));
      next.add(condOut);
      next.addAll(out.subList(1, 1 + carried));
      for (int k = 0; k < scans; k++) {
        next.add(write(n, v.get(2 + carried + k), v.get(0), out.get(1 + carried + k)));
      }
      return next;
    }, init);
  }

  /** Whether the body's condition is the incoming one passed through, or a constant true. */
  private static boolean alwaysTrue(Node n, Output condOut, Output condIn) {
    Output o = condOut;
    while (o.op().type().equals("Identity") || o.op().type().equals("Reshape")) {
      o = o.op().inputs().get(0);
    }
    if (o.equals(condIn)) {
      return true;
    }
    return n.imp.constant(condOut).map(ControlFlowMappers::truth).orElse(false);
  }

  /**
   * Scan (opset 9 on) with scan axes 0 and forward directions: a loop over the first axis of the scan
   * inputs, carrying the N state values and the scan output buffers.
   */
  private static void scan(Node n) {
    GraphProto g = body(n, "body");
    Ops tf = n.ops;
    int scanInputs = Math.toIntExact(n.attrInt("num_scan_inputs", -1));
    int first = n.opset < 9 ? 1 : 0;
    int states = n.numInputs() - first - scanInputs;
    if (scanInputs <= 0 || states < 0) {
      throw n.error("attribute 'num_scan_inputs' is " + scanInputs + " for " + n.numInputs() + " input(s)");
    }
    for (String a : List.of("directions", "scan_input_axes", "scan_output_axes", "scan_input_directions",
        "scan_output_directions")) {
      if (n.attrInts(a).map(v -> java.util.Arrays.stream(v).anyMatch(x -> x != 0)).orElse(false)) {
        throw n.unsupported("attribute '" + a + "' other than all 0 is not supported");
      }
    }
    int scans = g.getOutputCount() - states;
    if (g.getInputCount() != states + scanInputs || scans < 0) {
      throw n.error("the body takes " + g.getInputCount() + " input(s) and returns " + g.getOutputCount()
          + ", expected " + (states + scanInputs) + " and at least " + states);
    }
    List<Output> init = new ArrayList<>();
    for (int i = 0; i < states; i++) {
      init.add(n.in(first + i));
    }
    List<Output> xs = new ArrayList<>();
    for (int i = 0; i < scanInputs; i++) {
      xs.add(n.in(first + states + i));
    }
    List<Output> r;
    if (first == 0) {
      r = scanLoop(n, g, init, xs, scans);
    } else {
      // Before opset 9 every input has a leading batch axis: one scan per batch entry, stacked.
      if (n.has(0)) {
        throw n.unsupported("input 0 'sequence_lens' (per-batch sequence lengths) is not supported");
      }
      Output x0 = xs.get(0);
      if (!x0.shape().hasKnownRank() || x0.shape().rank() < 2 || x0.shape().dim(0) < 0
          || x0.shape().dim(0) > UNROLL_LIMIT) {
        throw n.unsupported("scan input '" + x0.name() + "' needs a known batch dimension of at most " + UNROLL_LIMIT
            + ", got " + x0.type());
      }
      int batch = x0.shape().dim(0);
      List<List<Output>> rows = new ArrayList<>();
      for (int j = 0; j < states + scans; j++) {
        rows.add(new ArrayList<>());
      }
      for (int b = 0; b < batch; b++) {
        Output index = tf.constant(b);
        List<Output> rb = scanLoop(n, g, init.stream().map(v -> tf.gather(v, index, 0)).toList(),
            xs.stream().map(v -> tf.gather(v, index, 0)).toList(), scans);
        for (int j = 0; j < rb.size(); j++) {
          rows.get(j).add(tf.expandDims(rb.get(j), 0));
        }
      }
      r = rows.stream().map(l -> l.size() == 1 ? l.get(0) : tf.concat(l, 0)).toList();
    }
    for (int j = 0; j < states + scans; j++) {
      n.out(j, r.get(j));
    }
  }

  /** The final states, then the scan outputs, of a scan along the first axis of {@code xs}. */
  private static List<Output> scanLoop(Node n, GraphProto g, List<Output> stateInit, List<Output> xs, int scans) {
    Ops tf = n.ops;
    int states = stateInit.size();
    Output first = xs.get(0);
    if (!first.shape().hasKnownRank() || first.shape().rank() == 0 || first.shape().dim(0) < 0) {
      throw n.unsupported("scan input '" + first.name() + "' needs a known scan dimension, got " + first.type());
    }
    long length = first.shape().dim(0);
    List<Output> init = new ArrayList<>();
    init.add(tf.constant(0L));
    init.addAll(stateInit);
    for (int k = 0; k < scans; k++) {
      init.add(buffer(n, g.getOutput(states + k), Math.toIntExact(length), "scan output " + k));
    }
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(length)), v -> {
      List<Output> params = new ArrayList<>(v.subList(1, 1 + states));
      for (Output x : xs) {
        params.add(tf.gather(x, v.get(0), 0));
      }
      List<Output> out = n.imp.subgraph(g, params, n.opset, what(n, "body"));
      List<Output> next = new ArrayList<>();
      next.add(tf.add(v.get(0), tf.constant(1L)));
      next.addAll(out.subList(0, states));
      for (int k = 0; k < scans; k++) {
        next.add(write(n, v.get(1 + states + k), v.get(0), out.get(states + k)));
      }
      return next;
    }, init);
    return r.subList(1, r.size());
  }

  /** A zero [length, ...element] buffer for a scan output whose element type the body declares. */
  private static Output buffer(Node n, ValueInfoProto vi, int length, String what) {
    if (!vi.getType().hasTensorType() || !vi.getType().getTensorType().hasShape()) {
      throw n.unsupported(what + " '" + vi.getName() + "' needs a declared tensor type with a static shape");
    }
    TypeProto.Tensor tt = vi.getType().getTensorType();
    DType d = Tensors.dtype(tt.getElemType(), n.label() + " " + what);
    int[] dims = new int[tt.getShape().getDimCount()];
    for (int i = 0; i < dims.length; i++) {
      TensorShapeProto.Dimension dim = tt.getShape().getDim(i);
      if (!dim.hasDimValue() || dim.getDimValue() < 0) {
        throw n.unsupported(what + " '" + vi.getName() + "' needs a static declared shape; dimension " + i
            + " is unknown");
      }
      dims[i] = Math.toIntExact(dim.getDimValue());
    }
    return n.ops.tensorArray(d, length, Shape.of(dims)).flow();
  }

  /** The buffer with row {@code index} set to {@code element}. */
  private static Output write(Node n, Output buffer, Output index, Output element) {
    TensorArray ta = n.ops.tensorArray(buffer);
    if (element.dtype() != ta.dtype() || !element.shape().isCompatibleWith(ta.elementShape())) {
      throw n.error("a scan output of the body is " + element.type() + " but the body declares "
          + new TensorType(ta.dtype(), ta.elementShape()));
    }
    return ta.write(index, element).flow();
  }
}
