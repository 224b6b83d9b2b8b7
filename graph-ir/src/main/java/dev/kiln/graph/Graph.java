package dev.kiln.graph;

import dev.kiln.graph.text.GraphParser;
import dev.kiln.graph.text.GraphPrinter;
import dev.kiln.graph.text.DotWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * A dataflow graph: an append-only list of {@link Operation}s, each created with its inputs already
 * in the graph, so creation order is a topological order. Node names are unique: an automatic name is
 * suffixed {@code _1}, {@code _2}, ... as in TensorFlow; an explicit name that is taken is an error.
 * Types are inferred, and checked, when a node is created; a failed creation leaves no trace.
 *
 * <p>Building is meant for one thread at a time; methods are synchronized so that a Session may read
 * a graph while another thread appends to it.
 */
public final class Graph {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9.][A-Za-z0-9_.\\-/]*");

  private final List<Operation> ops = new ArrayList<>();
  private final Map<String, Operation> byName = new HashMap<>();
  private final Map<String, Integer> nextSuffix = new HashMap<>();
  private final LinkedHashMap<Operation, Operation> variableInitializers = new LinkedHashMap<>();
  private final String name;

  /** An unnamed graph. */
  public Graph() {
    this("");
  }

  /** A graph called {@code name} (its text form starts {@code graph name {}); "" for none. */
  public Graph(String name) {
    this.name = java.util.Objects.requireNonNull(name, "graph name is null (use \"\" for none)");
  }

  /** The graph's name, "" when it has none. */
  public String name() {
    return name;
  }

  /** Starts building a node of op type {@code type}; {@code name} null for an automatic name. */
  public OperationBuilder opBuilder(String type, String name) {
    // While a control-flow body is built through this graph's Ops, its nodes go into that body.
    return new OperationBuilder(buildTarget(), Objects.requireNonNull(type, "Graph.opBuilder: type is null"), name);
  }

  // ---------------------------------------------------------------- control-flow bodies (ControlFlow)

  /** The innermost body under construction through this graph's Ops, or null when none is. */
  private Graph bodyUnderConstruction;
  /** For a body under construction: turns a value of an enclosing graph into one of its Parameters. */
  private java.util.function.UnaryOperator<Output> capturer;

  /** The graph that builders on this graph add to now: itself, or the body being built through it. */
  synchronized Graph buildTarget() {
    return bodyUnderConstruction == null ? this : bodyUnderConstruction;
  }

  /** Redirects this graph's builders into {@code body} (null: back to itself); returns the previous target. */
  synchronized Graph redirectTo(Graph body) {
    Graph prev = bodyUnderConstruction;
    bodyUnderConstruction = body == this ? null : body;
    return prev;
  }

  synchronized void setCapturer(java.util.function.UnaryOperator<Output> c) {
    capturer = c;
  }

  /**
   * {@code v} as a value of this graph: itself, or, while this graph is a body under construction
   * and {@code v} a value of an enclosing graph, the Parameter that captures it.
   */
  synchronized Output captured(Output v, Supplier<String> what) {
    if (v.graph() == this || capturer == null || v.op().isRolledBack()) {
      requireContains(v.op(), what);
      return v;
    }
    return capturer.apply(v);
  }

  /**
   * Whether {@code op} is a node of this graph: false for a node of another graph, and for one that a
   * failed {@link #atomically} call removed.
   */
  public boolean contains(Operation op) {
    Objects.requireNonNull(op, "contains: operation is null");
    return op.graph() == this && !op.isRolledBack();
  }

  /**
   * Fails unless this graph {@link #contains} {@code op}, with an IllegalArgumentException reading
   * {@code what} followed by why: {@code belongs to another graph} or {@code was rolled back: ...}. For
   * every entry point that takes a node or an output (builders, gradients, runtimes).
   */
  public void requireContains(Operation op, String what) {
    requireContains(op, () -> what);
  }

  /** As {@link #requireContains(Operation, String)}, building the message only when it fails. */
  public void requireContains(Operation op, Supplier<String> what) {
    if (!contains(op)) {
      throw new IllegalArgumentException(what.get() + (op.graph() != this ? " belongs to another graph"
          : " was rolled back: the Graph.atomically call that created " + op + " failed, so it is not in the graph"));
    }
  }

  /** The node called {@code name}; fails with a clear message if there is none. */
  public synchronized Operation operation(String name) {
    Objects.requireNonNull(name, "Graph.operation: name is null");
    Operation op = byName.get(name);
    if (op == null) {
      throw new IllegalArgumentException("no node named '" + name + "' in the graph");
    }
    return op;
  }

  public synchronized Optional<Operation> findOperation(String name) {
    Objects.requireNonNull(name, "Graph.findOperation: name is null");
    return Optional.ofNullable(byName.get(name));
  }

  /**
   * The output a name refers to: {@code node} for output 0 or {@code node:i}; fails naming what is
   * missing.
   */
  public synchronized Output output(String name) {
    Objects.requireNonNull(name, "Graph.output: name is null");
    int colon = name.lastIndexOf(':');
    if (colon > 0 && name.substring(colon + 1).matches("\\d+")) {
      Operation op = operation(name.substring(0, colon));
      String index = name.substring(colon + 1);
      if (index.length() > 9 || Integer.parseInt(index) >= op.numOutputs()) {
        throw new IllegalArgumentException("no output '" + name + "': " + op + " has " + op.numOutputs()
            + (op.numOutputs() == 1 ? " output" : " outputs"));
      }
      return op.output(Integer.parseInt(index));
    }
    Operation op = operation(name);
    if (op.numOutputs() == 0) {
      throw new IllegalArgumentException("no output '" + name + "': " + op + " has 0 outputs");
    }
    return op.output(0);
  }

  /** All nodes in creation (topological) order: a snapshot. */
  public synchronized List<Operation> operations() {
    return List.copyOf(ops);
  }

  /** How deep subgraphs nest inside this graph: 0 when none of its nodes owns one. Walks the nodes without copying them. */
  synchronized int subgraphNesting() {
    int depth = 0;
    for (int i = 0; i < ops.size(); i++) {
      for (Subgraph s : ops.get(i).subgraphs()) {
        depth = Math.max(depth, 1 + s.graph().subgraphNesting());
      }
    }
    return depth;
  }

  public synchronized int size() {
    return ops.size();
  }

  /** The variables in creation order. */
  public synchronized List<Variable> variables() {
    List<Variable> vs = new ArrayList<>();
    for (Operation op : variableInitializers.keySet()) {
      vs.add((Variable) op.output(0));
    }
    return vs;
  }

  synchronized Operation initializerOf(Variable v) {
    requireContains(v.op(), "variable '" + v.name() + "'");
    Operation init = variableInitializers.get(v.op());
    if (init == null) {
      throw new IllegalStateException("variable '" + v.name() + "' has no initializer in this graph");
    }
    return init;
  }

  /**
   * Runs {@code body}, which may add several nodes; if it throws, every node it added is removed, so
   * that a composite builder either adds all its nodes or none.
   */
  public synchronized <T> T atomically(Supplier<T> body) {
    Objects.requireNonNull(body, "atomically: body is null");
    if (bodyUnderConstruction != null) {
      return bodyUnderConstruction.atomically(body);
    }
    int mark = ops.size();
    try {
      return body.get();
    } catch (RuntimeException | Error e) {
      truncate(mark);
      throw e;
    }
  }

  private void truncate(int mark) {
    while (ops.size() > mark) {
      Operation op = ops.remove(ops.size() - 1);
      op.markRolledBack();
      byName.remove(op.name());
      variableInitializers.remove(op);
      // A rolled-back initializer leaves its variable without one; the variable itself stays.
      variableInitializers.replaceAll((var, init) -> init == op ? null : init);
    }
    // Suffix counters may point past names that are free again; recounting from 1 is always correct.
    nextSuffix.clear();
  }

  synchronized Operation add(String type, String name, boolean explicitName, List<Output> builderInputs,
      List<Operation> controlInputs, Attrs attrs, List<Subgraph> subgraphs, String device) {
    List<Output> inputs = List.copyOf(builderInputs); // an OpDef sees, and can change, nothing of the builder's
    OpDef def = OpRegistry.get(type);
    if (capturer != null && type.equals("Variable")) {
      throw new IllegalArgumentException("Variable '" + name + "': variables cannot be created inside a cond or"
          + " whileLoop body; create it outside and use it inside");
    }
    for (int i = 0; i < inputs.size(); i++) {
      Output in = inputs.get(i);
      if (!contains(in.op())) {
        int k = i;
        Output c = captured(in, () -> type + " '" + (explicitName ? name : nextAutoName(name)) + "': input " + k
            + " '" + in.name() + "'");
        if (c != in) {
          List<Output> copy = new ArrayList<>(inputs);
          copy.set(i, c);
          inputs = List.copyOf(copy);
        }
      }
    }
    String nodeName = explicitName ? checkExplicitName(type, name) : uniqueName(type, name);
    for (Operation c : controlInputs) {
      if (!contains(c)) {
        requireContains(c, type + " '" + nodeName + "': control input '" + c.name() + "'");
      }
    }
    if (inputs.size() < def.minInputs() || inputs.size() > def.maxInputs()) {
      String want = def.minInputs() == def.maxInputs() ? Integer.toString(def.minInputs())
          : def.maxInputs() == Integer.MAX_VALUE ? "at least " + def.minInputs()
          : def.minInputs() + " to " + def.maxInputs();
      throw new IllegalArgumentException(type + " '" + nodeName + "': expects " + want
          + (want.equals("1") || want.equals("at least 1") ? " input" : " inputs") + ", got " + inputs.size());
    }
    List<TensorType> types = def.infer(new OpContext(type, nodeName, inputs, attrs, subgraphs));
    if (types == null || hasNull(types)) {
      throw new IllegalStateException(type + " '" + nodeName + "': op definition inferred a null type: " + types);
    }
    for (int j = 0; j < types.size(); j++) {
      // Checked for every op type, built-in or not, here and when a runtime re-infers concrete shapes;
      // the message is built only for a shape that fails.
      Shape shape = types.get(j).shape();
      if (!shape.fitsInTensor()) {
        shape.requireFitsInTensor(type + " '" + nodeName + "'" + (types.size() > 1 ? ": output " + j : ""));
      }
    }
    Operation op = new Operation(this, ops.size(), nodeName, def, inputs, controlInputs, attrs, types,
        subgraphs, device);
    ops.add(op);
    byName.put(nodeName, op);
    if (!explicitName && !nodeName.equals(name)) {
      // Only a node that was really added advances the counter: a failed one leaves no trace.
      nextSuffix.put(name, Integer.parseInt(nodeName.substring(name.length() + 1)) + 1);
    }
    if (type.equals("Variable")) {
      variableInitializers.put(op, null);
    } else if (type.equals("Assign") && inputs.get(0).op().type().equals("Variable")) {
      Operation var = inputs.get(0).op();
      if (variableInitializers.get(var) == null && inputs.get(1).equals(var.input(0))) {
        variableInitializers.put(var, op);
      }
    }
    return op;
  }

  /** A loop rather than contains(null), which immutable lists reject. */
  private static boolean hasNull(List<TensorType> types) {
    for (int i = 0; i < types.size(); i++) {
      if (types.get(i) == null) {
        return true;
      }
    }
    return false;
  }

  private String checkExplicitName(String type, String name) {
    if (!isValidName(name)) {
      throw new IllegalArgumentException(type + ": invalid node name '" + name
          + "' (letters, digits, and _ . - / after the first character)");
    }
    Operation prev = byName.get(name);
    if (prev != null) {
      throw new IllegalArgumentException(type + " '" + name + "': name already used by " + prev);
    }
    return name;
  }

  private String uniqueName(String type, String base) {
    if (!isValidName(base)) {
      throw new IllegalArgumentException(type + ": invalid node name '" + base
          + "' (letters, digits, and _ . - / after the first character)");
    }
    if (!byName.containsKey(base)) {
      return base;
    }
    int k = nextSuffix.getOrDefault(base, 1);
    while (byName.containsKey(base + "_" + k)) {
      k++;
    }
    return base + "_" + k;
  }

  /** The name a node auto-named from {@code base} would get now (for messages before it is built). */
  synchronized String nextAutoName(String base) {
    return isValidName(base) ? uniqueName("", base) : base;
  }

  /** Whether {@code name} may name a node (or, with nodes under it, a name scope). */
  static boolean isValidName(String name) {
    return NAME.matcher(name).matches() && !name.endsWith("/");
  }

  @Override
  public synchronized String toString() {
    return "Graph(" + (name.isEmpty() ? "" : name + ", ") + ops.size() + " nodes)";
  }

  // ---------------------------------------------------------------- text format and pictures

  /** This graph in Kiln's text format (grammar {@code Kiln.g4}); {@link #parse} reads it back. */
  public String toText() {
    return GraphPrinter.print(this);
  }

  /**
   * Reads a graph in Kiln's text format, building and type-checking every node; errors are
   * {@link GraphParseException}s whose message starts with {@code line:col:}.
   */
  public static Graph parse(String text) {
    return parse(text, "");
  }

  /** As {@link #parse(String)}, with messages starting {@code fileName:line:col:}. */
  public static Graph parse(String text, String fileName) {
    Objects.requireNonNull(text, "Graph.parse: text is null");
    Objects.requireNonNull(fileName, "Graph.parse: fileName is null");
    return GraphParser.parse(text, fileName);
  }

  /** Reads a graph file (UTF-8); messages start with the path as given, {@code path:line:col:}. */
  public static Graph parse(java.nio.file.Path file) {
    Objects.requireNonNull(file, "Graph.parse: file is null");
    try {
      return GraphParser.parse(java.nio.file.Files.readString(file), file.toString());
    } catch (java.io.IOException e) {
      String why = e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.toString();
      throw new java.io.UncheckedIOException("cannot read graph file " + file + ": " + why, e);
    }
  }

  /**
   * The graph in Graphviz DOT: nodes labelled with name, op and output types, edges with the types
   * they carry, control edges dashed, nodes that own subgraphs as clusters, devices as colours.
   */
  public String toDot() {
    return DotWriter.write(this);
  }

  // ---------------------------------------------------------------- custom gradients (Ops.customGradient)

  private final Map<String, CustomGradients.Entry> customGradients = new HashMap<>();

  synchronized String nextCustomGradientKey() {
    return "custom_gradient_" + customGradients.size();
  }

  synchronized void putCustomGradient(String key, CustomGradients.Entry entry) {
    customGradients.put(key, entry);
  }

  synchronized Optional<CustomGradients.Entry> customGradient(String key) {
    return Optional.ofNullable(customGradients.get(key));
  }
}
