package dev.kiln.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.onnx.proto.OnnxProto.ModelProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An ONNX model imported as a Kiln graph. Graph inputs become placeholders (a {@code dim_param} or
 * missing dimension is unknown, -1), initializers constants or, with
 * {@link ImportOptions#weightsAsVariables()}, variables; {@link #inputs()} and {@link #outputs()} keep the
 * model's declared order and {@link #input(String)}/{@link #output(String)} find them by ONNX name.
 */
public final class OnnxModel {
  private final Graph graph;
  private final Map<String, Output> inputs;
  private final Map<String, Output> outputs;
  private final Optional<Operation> initializer;

  private OnnxModel(Graph graph, Map<String, Output> inputs, Map<String, Output> outputs,
      Optional<Operation> initializer) {
    this.graph = graph;
    this.inputs = inputs;
    this.outputs = outputs;
    this.initializer = initializer;
  }

  /** Imports the model with its weights as constants. */
  public static OnnxModel load(Path path) {
    return load(path, ImportOptions.defaults());
  }

  public static OnnxModel load(Path path, ImportOptions options) {
    Objects.requireNonNull(path, "OnnxModel.load: path is null");
    Objects.requireNonNull(options, "OnnxModel.load: options is null");
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read ONNX model " + path + ": " + e.getMessage(), e);
    }
    ModelProto model;
    try {
      model = ModelProto.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new OnnxImportException(path + ": not an ONNX model (protobuf: " + e.getMessage() + ")", e);
    }
    return fromProto(model, path.toString(), options);
  }

  /** Imports a parsed model; {@code source} names it in messages. */
  static OnnxModel fromProto(ModelProto model, String source, ImportOptions options) {
    Importer imp = new Importer(source, options);
    imp.run(model);
    Optional<Operation> init = imp.hasVariables
        ? Optional.of(imp.ops.globalVariablesInitializer()) : Optional.empty();
    return new OnnxModel(imp.graph, java.util.Collections.unmodifiableMap(imp.inputs),
        java.util.Collections.unmodifiableMap(imp.outputs), init);
  }

  public Graph graph() {
    return graph;
  }

  /** The graph inputs that are not initializers, as placeholders, in the model's order. */
  public List<Output> inputs() {
    return List.copyOf(inputs.values());
  }

  /** The graph outputs in the model's order. */
  public List<Output> outputs() {
    return List.copyOf(outputs.values());
  }

  public List<String> inputNames() {
    return List.copyOf(inputs.keySet());
  }

  public List<String> outputNames() {
    return List.copyOf(outputs.keySet());
  }

  public Output input(String onnxName) {
    return lookup(inputs, onnxName, "input");
  }

  public Output output(String onnxName) {
    return lookup(outputs, onnxName, "output");
  }

  /** The op that initializes the weights imported as variables; empty when they are constants. */
  public Optional<Operation> initializer() {
    return initializer;
  }

  private static Output lookup(Map<String, Output> m, String name, String what) {
    Output o = m.get(Objects.requireNonNull(name, what + " name is null"));
    if (o == null) {
      throw new IllegalArgumentException("the model has no " + what + " '" + name + "'; its " + what + "s are "
          + m.keySet());
    }
    return o;
  }
}
