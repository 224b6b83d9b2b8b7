package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.onnx.proto.OnnxProto.ValueInfoProto;
import dev.kiln.runtime.CpuConstantEvaluator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Builds a Kiln graph from a parsed ONNX model, node by node in the model's (topological) order. */
final class Importer {
  static final int MIN_OPSET = 1;
  static final int MAX_OPSET = 18;
  /** Constant folding for attribute inputs evaluates nodes up to this many input elements. */
  private static final long FOLD_LIMIT = 1 << 22;

  private final String file;
  private final ImportOptions options;
  final Graph graph = new Graph();
  final Ops ops = Ops.create(graph);
  private final Map<String, Output> values = new HashMap<>();
  private final Map<Output, Optional<Tensor>> folded = new HashMap<>();
  private final Map<String, SymbolicShapes.Sym> symbolic = new HashMap<>();
  final Map<String, Output> inputs = new LinkedHashMap<>();
  final Map<String, Output> outputs = new LinkedHashMap<>();
  boolean hasVariables;

  Importer(String file, ImportOptions options) {
    this.file = file;
    this.options = options;
  }

  void run(ModelProto model) {
    int opset = opset(model);
    GraphProto g = model.getGraph();
    checkOperators(g);
    Map<String, TensorProto> initializers = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) {
      initializers.put(t.getName(), t);
      Tensor value = Tensors.fromProto(t, file + ": initializer");
      Output c = ops.withName(nodeName("init_" + t.getName())).constant(value);
      if (options.weightsAsVariables() && value.dtype().isFloating()) {
        c = ops.variable(nodeName(t.getName()), c);
        hasVariables = true;
      }
      values.put(t.getName(), c);
    }
    for (ValueInfoProto vi : g.getInputList()) {
      if (initializers.containsKey(vi.getName())) {
        continue;
      }
      Tensor frozen = options.frozenInputs().get(vi.getName());
      if (frozen != null) {
        values.put(vi.getName(), ops.withName(nodeName(vi.getName())).constant(frozen));
        continue;
      }
      TypeProto.Tensor tt = tensorType(vi, "input");
      DType d = Tensors.dtype(tt.getElemType(), file + ": input '" + vi.getName() + "'");
      Output p = ops.placeholder(nodeName(vi.getName()), d, shape(tt));
      values.put(vi.getName(), p);
      inputs.put(vi.getName(), p);
    }
    for (int i = 0; i < g.getNodeCount(); i++) {
      mapNode(g.getNode(i), i, opset);
    }
    for (ValueInfoProto vi : g.getOutputList()) {
      Output o = values.get(vi.getName());
      if (o == null && symbolic.containsKey(vi.getName())) {
        throw new UnsupportedOnnxException(file + ": graph output '" + vi.getName() + "' is the shape value "
            + symbolic.get(vi.getName()).describe() + ", unknown until run time");
      }
      if (o == null) {
        throw new OnnxImportException(file + ": graph output '" + vi.getName() + "' is not computed by any node");
      }
      outputs.put(vi.getName(), o);
    }
  }

  private void mapNode(NodeProto np, int i, int opset) {
    Node n = new Node(this, np, i, ops, opset);
    Mapper m = Mappers.get(qualifiedType(np));
    try {
      graph.atomically(() -> {
        if (!SymbolicShapes.tryMap(n)) {
          m.map(n);
        }
        return null;
      });
    } catch (OnnxImportException e) {
      throw withFile(e);
    } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
      // Kiln refused the node as built (a shape, dtype or attribute it cannot take): the model is valid ONNX.
      throw new UnsupportedOnnxException(file + ": " + n.label() + ": " + e.getMessage());
    }
    for (int j = 0; j < np.getOutputCount(); j++) {
      if (!np.getOutput(j).isEmpty() && !values.containsKey(np.getOutput(j)) && !symbolic.containsKey(np.getOutput(j))) {
        throw new UnsupportedOnnxException(file + ": " + n.label() + ": output " + j + " '" + np.getOutput(j)
            + "' is not supported");
      }
    }
  }

  /**
   * Maps the nodes of a control-flow body (an If branch, a Loop or Scan body) into the body under
   * construction and returns its outputs. The body's inputs are bound to {@code params}; names of the
   * enclosing graphs stay visible (the control-flow builders capture them), and names the body defines
   * are forgotten afterwards, so that they neither leak out nor shadow enclosing values.
   */
  List<Output> subgraph(GraphProto g, List<Output> params, int opset, String what) {
    if (g.getInputCount() != params.size()) {
      throw new OnnxImportException(what + " takes " + g.getInputCount() + " input(s), expected " + params.size());
    }
    Map<String, Output> savedValues = new HashMap<>(values);
    Map<String, SymbolicShapes.Sym> savedSymbolic = new HashMap<>(symbolic);
    try {
      for (TensorProto t : g.getInitializerList()) {
        values.put(t.getName(), ops.constant(Tensors.fromProto(t, what + " initializer")));
        symbolic.remove(t.getName());
      }
      for (int i = 0; i < params.size(); i++) {
        values.put(g.getInput(i).getName(), params.get(i));
        symbolic.remove(g.getInput(i).getName());
      }
      for (int i = 0; i < g.getNodeCount(); i++) {
        mapNode(g.getNode(i), i, opset);
      }
      List<Output> out = new ArrayList<>();
      for (ValueInfoProto vi : g.getOutputList()) {
        if (!values.containsKey(vi.getName()) && symbolic.containsKey(vi.getName())) {
          throw new UnsupportedOnnxException(what + " output '" + vi.getName() + "' is the shape value "
              + symbolic.get(vi.getName()).describe() + ", unknown until run time");
        }
        Output o = values.get(vi.getName());
        if (o == null) {
          throw new OnnxImportException(what + " output '" + vi.getName() + "' is not computed by any node");
        }
        out.add(o);
      }
      return out;
    } finally {
      values.clear();
      values.putAll(savedValues);
      symbolic.clear();
      symbolic.putAll(savedSymbolic);
    }
  }

  private OnnxImportException withFile(OnnxImportException e) {
    if (e.getMessage().startsWith(file)) {
      return e;
    }
    return e instanceof UnsupportedOnnxException u
        ? new UnsupportedOnnxException(file + ": " + u.getMessage(), u.operators())
        : new OnnxImportException(file + ": " + e.getMessage(), e);
  }

  private int opset(ModelProto model) {
    int opset = -1;
    for (OperatorSetIdProto o : model.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        opset = (int) o.getVersion();
      }
    }
    if (opset < 0) {
      boolean usesDefault = model.getGraph().getNodeList().stream()
          .anyMatch(n -> n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"));
      if (usesDefault) {
        throw new OnnxImportException(file + ": the model's nodes use the default operator set (ai.onnx) but it "
            + "imports no version of it, only " + model.getOpsetImportList().stream().map(OperatorSetIdProto::getDomain).toList());
      }
      return MAX_OPSET;
    }
    if (opset < MIN_OPSET || opset > MAX_OPSET) {
      throw new UnsupportedOnnxException(file + ": operator set " + opset + " is outside the supported "
          + MIN_OPSET + ".." + MAX_OPSET);
    }
    return opset;
  }

  /** Every node's operator is mapped, or one exception lists all the unmapped ones with their nodes. */
  private void checkOperators(GraphProto g) {
    Map<String, List<String>> missing = new TreeMap<>();
    collectMissing(g, missing);
    if (!missing.isEmpty()) {
      throw UnsupportedOnnxException.ofOperators(file, missing);
    }
  }

  /** Unmapped operators of g and of the bodies of its control-flow nodes, with their node names. */
  private static void collectMissing(GraphProto g, Map<String, List<String>> missing) {
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto n = g.getNode(i);
      String type = qualifiedType(n);
      if (Mappers.get(type) == null) {
        missing.computeIfAbsent(type, k -> new ArrayList<>()).add(n.getName().isEmpty() ? "#" + i : n.getName());
      }
      for (var a : n.getAttributeList()) {
        if (a.hasG()) {
          collectMissing(a.getG(), missing);
        }
        a.getGraphsList().forEach(sub -> collectMissing(sub, missing));
      }
    }
  }

  /** The operator type, prefixed with its domain outside the default one (ai.onnx.preview.training.Adam). */
  static String qualifiedType(NodeProto n) {
    return n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx") ? n.getOpType() : n.getDomain() + "." + n.getOpType();
  }

  private TypeProto.Tensor tensorType(ValueInfoProto vi, String what) {
    if (!vi.getType().hasTensorType()) {
      throw new UnsupportedOnnxException(file + ": " + what + " '" + vi.getName() + "' is not a tensor (sequence, "
          + "map and optional values are not supported)");
    }
    return vi.getType().getTensorType();
  }

  private static Shape shape(TypeProto.Tensor tt) {
    if (!tt.hasShape()) {
      return Shape.unknown();
    }
    TensorShapeProto s = tt.getShape();
    int[] dims = new int[s.getDimCount()];
    for (int i = 0; i < dims.length; i++) {
      TensorShapeProto.Dimension d = s.getDim(i);
      dims[i] = d.hasDimValue() && d.getDimValue() >= 0 && d.getDimValue() <= Integer.MAX_VALUE
          ? (int) d.getDimValue() : -1;
    }
    return Shape.of(dims);
  }

  /** A valid Kiln node name for an ONNX value name (ONNX allows any string). */
  String nodeName(String onnxName) {
    String s = onnxName.replaceAll("[^A-Za-z0-9_.\\-/]", "_");
    if (s.isEmpty() || !Character.isLetterOrDigit(s.charAt(0)) && s.charAt(0) != '.') {
      s = "v" + s;
    }
    String base = s;
    for (int k = 1; graph.findOperation(s).isPresent(); k++) {
      s = base + "_" + k;
    }
    return s;
  }

  Output value(String name, Node user) {
    Output o = values.get(name);
    if (o == null && symbolic.containsKey(name)) {
      throw user.unsupported("input '" + name + "' is the shape value " + symbolic.get(name).describe()
          + ", unknown until run time; Kiln computes shapes at import, and takes such a value only as a Reshape, "
          + "Expand or ConstantOfShape target built from the input's own dimensions");
    }
    if (o == null) {
      throw user.error("input '" + name + "' is not defined before the node");
    }
    return o;
  }

  Optional<SymbolicShapes.Sym> symbolic(String name) {
    return Optional.ofNullable(symbolic.get(name));
  }

  void defineSymbolic(String name, SymbolicShapes.Sym s) {
    symbolic.put(name, s);
  }

  void define(String name, Output o) {
    values.put(name, o);
  }

  /** o's value when it does not depend on placeholders or variables (small enough to evaluate here). */
  Optional<Tensor> constant(Output o) {
    Optional<Tensor> known = folded.get(o);
    if (known != null) {
      return known;
    }
    Optional<Tensor> v = fold(o);
    folded.put(o, v);
    return v;
  }

  private Optional<Tensor> fold(Output o) {
    Operation op = o.op();
    if (op.type().equals("Const")) {
      return Optional.of(op.attrs().getTensor("value"));
    }
    if (op.isStateful() || op.type().equals("Placeholder") || op.type().equals("Parameter")) {
      return Optional.empty();
    }
    List<Tensor> in = new ArrayList<>();
    long elements = 0;
    for (Output i : op.inputs()) {
      Optional<Tensor> t = constant(i);
      if (t.isEmpty()) {
        return Optional.empty();
      }
      elements += t.get().size();
      in.add(t.get());
    }
    if (elements > FOLD_LIMIT) {
      return Optional.empty();
    }
    return Optional.of(CpuConstantEvaluator.instance().evaluate(op, in).get(o.index()));
  }
}
