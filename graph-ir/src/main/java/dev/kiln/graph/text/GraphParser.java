package dev.kiln.graph.text;

import dev.kiln.graph.*;

import dev.kiln.graph.text.KilnLexer;
import dev.kiln.graph.text.KilnParser;
import dev.kiln.graph.text.KilnParser.AttrContext;
import dev.kiln.graph.text.KilnParser.ControlOperandContext;
import dev.kiln.graph.text.KilnParser.DataOperandContext;
import dev.kiln.graph.text.KilnParser.DimContext;
import dev.kiln.graph.text.KilnParser.NodeContext;
import dev.kiln.graph.text.KilnParser.OperandContext;
import dev.kiln.graph.text.KilnParser.ShapeContext;
import dev.kiln.graph.text.KilnParser.SubgraphContext;
import dev.kiln.graph.text.KilnParser.TensorTypeContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.atn.PredictionMode;

/**
 * Reads Kiln's text format: ANTLR parses the syntax (failing at the first error, see
 * {@link FailFastStrategy}), then each node is built through {@link OperationBuilder}, so the op
 * registry checks and infers it exactly as for graphs built in code. Every problem becomes a
 * {@link GraphParseException} at the position of the text it concerns; no partial graph escapes.
 */
public final class GraphParser {
  private final String file;
  private final ValueReader values;

  private GraphParser(String file) {
    this.file = file;
    this.values = new ValueReader(this);
  }

  public static Graph parse(String text, String file) {
    return new GraphParser(file).parseFile(text);
  }

  private Graph parseFile(String text) {
    KilnLexer lexer = new KilnLexer(CharStreams.fromString(text));
    lexer.removeErrorListeners(); // the lexer cannot fail: bad characters become BAD_CHAR tokens
    KilnParser parser = new NestingLimitedParser(new CommonTokenStream(lexer));
    parser.removeErrorListeners();
    parser.setErrorHandler(new FailFastStrategy(this::error));
    parser.getInterpreter().setPredictionMode(PredictionMode.SLL); // the grammar is LL(1)
    KilnParser.FileContext tree = parser.file();
    Graph g = new Graph(tree.name() == null ? "" : name(tree.name()));
    block(g, tree.node());
    return g;
  }

  /**
   * ANTLR's parser recurses once per nested subgraph, and so do the walk below and everything that
   * reads a graph: refusing a subgraph nested deeper than a built graph may hold, as it is entered,
   * keeps all of them within a thread's stack.
   */
  private final class NestingLimitedParser extends KilnParser {
    private int nesting;

    NestingLimitedParser(CommonTokenStream tokens) {
      super(tokens);
    }

    @Override
    public void enterRule(ParserRuleContext ctx, int state, int ruleIndex) {
      if (ruleIndex == RULE_subgraph && ++nesting > OperationBuilder.MAX_SUBGRAPH_NESTING) {
        throw error(getCurrentToken(), "subgraphs nested more than " + OperationBuilder.MAX_SUBGRAPH_NESTING + " deep");
      }
      super.enterRule(ctx, state, ruleIndex);
    }

    @Override
    public void exitRule() {
      if (getContext().getRuleIndex() == RULE_subgraph) {
        nesting--;
      }
      super.exitRule();
    }
  }

  GraphParseException error(Token at, String detail) {
    return new GraphParseException(file, at.getLine(), at.getCharPositionInLine() + 1, detail);
  }

  // ---------------------------------------------------------------- nodes

  private void block(Graph g, List<NodeContext> nodes) {
    Map<String, Token> declared = new HashMap<>();
    for (NodeContext n : nodes) {
      declared.putIfAbsent(defName(n.def), n.def);
    }
    for (NodeContext n : nodes) {
      node(g, n, declared);
    }
  }

  private String defName(Token def) {
    String name = def.getText().substring(1);
    if (name.contains(":")) {
      throw error(def, "a node definition cannot name an output index: '" + def.getText() + "'");
    }
    return name;
  }

  private void node(Graph g, NodeContext n, Map<String, Token> declared) {
    String name = defName(n.def);
    Optional<Operation> prev = g.findOperation(name);
    if (prev.isPresent()) {
      throw error(n.def, "duplicate node name '%" + name + "', first defined at " + position(declared.get(name)));
    }
    String type = n.opType.getText();
    if (OpRegistry.find(type).isEmpty()) {
      throw error(n.opType, "unknown op type '" + type + "'");
    }
    OperationBuilder b = g.opBuilder(type, name);
    boolean sawControl = false;
    for (OperandContext o : n.operand()) {
      if (o instanceof ControlOperandContext c) {
        Token ref = c.REF().getSymbol();
        if (ref.getText().contains(":")) {
          throw error(ref, "a control input names a node, not an output: '^" + ref.getText() + "'");
        }
        b.addControlInput(resolveOp(g, ref, declared));
        sawControl = true;
      } else {
        Token ref = ((DataOperandContext) o).REF().getSymbol();
        if (sawControl) {
          throw error(ref, "data input '" + ref.getText() + "' after control inputs (write control inputs last)");
        }
        b.addInput(resolve(g, ref, declared));
      }
    }
    if (n.attrDict() != null) {
      AttrSchema schema = OpRegistry.get(type).attrSchema();
      Set<String> seen = new HashSet<>();
      for (AttrContext a : n.attrDict().attr()) {
        String attrName = name(a.name());
        if (!seen.add(attrName)) {
          throw error(a.name().getStart(), "duplicate attribute '" + attrName + "'");
        }
        Object value = values.value(a.value());
        try {
          b.setAttr(attrName, value);
        } catch (IllegalArgumentException e) {
          // A declared name was given a bad value; any other failure is the name's.
          Token at = schema.find(attrName).isPresent() ? a.value().getStart() : a.name().getStart();
          throw error(at, e.getMessage());
        }
      }
    }
    if (n.device() != null) {
      Token at = n.device().STRING().getSymbol();
      try {
        b.setDevice(ValueReader.unquote(this, at));
      } catch (IllegalArgumentException e) {
        throw error(at, e.getMessage());
      }
    }
    List<TensorType> declaredTypes = new ArrayList<>();
    List<Token> typeTokens = new ArrayList<>();
    if (n.resultTypes() != null) {
      for (TensorTypeContext t : n.resultTypes().tensorType()) {
        declaredTypes.add(values.tensorType(t));
        typeTokens.add(t.getStart());
      }
    }
    if (n.subgraph().isEmpty()) {
      Operation op = build(b, n);
      if (n.resultTypes() != null) {
        checkDeclaredTypes(op, n.resultTypes().getStart(), declaredTypes, typeTokens);
      }
      return;
    }
    // A node's inference may depend on its bodies (a Fused node's outputs do), so the bodies are
    // built first; the node's input and attribute errors were already reported while reading it.
    for (SubgraphContext s : n.subgraph()) {
      b.addSubgraph(subgraph(s));
    }
    Operation op = build(b, n);
    if (n.resultTypes() != null) {
      checkDeclaredTypes(op, n.resultTypes().getStart(), declaredTypes, typeTokens);
    }
  }

  private Operation build(OperationBuilder b, NodeContext n) {
    try {
      return b.build();
    } catch (IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException | ArithmeticException e) {
      throw error(n.opType, e.getMessage());
    }
  }

  private void checkDeclaredTypes(Operation op, Token start, List<TensorType> declared, List<Token> at) {
    List<TensorType> inferred = op.outputTypes();
    if (declared.size() != inferred.size()) {
      throw error(start, op + " has " + plural(inferred.size(), "output") + ", but "
          + plural(declared.size(), "type") + " " + (declared.size() == 1 ? "is" : "are") + " declared");
    }
    for (int i = 0; i < declared.size(); i++) {
      if (!declared.get(i).equals(inferred.get(i))) {
        throw error(at.get(i), op + ": declared type " + declared.get(i)
            + (inferred.size() > 1 ? " for output " + i : "") + " but inferred " + inferred.get(i));
      }
    }
  }

  private Subgraph subgraph(SubgraphContext s) {
    Set<String> bodyNames = new HashSet<>();
    for (NodeContext n : s.node()) {
      bodyNames.add(defName(n.def));
    }
    List<Token> refs = new ArrayList<>(s.params);
    refs.addAll(s.results);
    for (Token ref : refs) {
      String name = refName(ref);
      if (!bodyNames.contains(name)) {
        throw error(ref, "no node named '%" + name + "' in the subgraph");
      }
    }
    Graph body = new Graph();
    block(body, s.node());
    Map<String, Token> none = Map.of();
    List<Output> params = new ArrayList<>();
    for (Token ref : s.params) {
      Output p = resolve(body, ref, none);
      if (!p.op().type().equals("Parameter")) {
        throw error(ref, "subgraph parameter '" + ref.getText() + "' is " + p.op() + ", not a Parameter");
      }
      params.add(p);
    }
    List<Output> results = new ArrayList<>();
    for (Token ref : s.results) {
      results.add(resolve(body, ref, none));
    }
    return new Subgraph(body, params, results);
  }

  private static String refName(Token ref) {
    String text = ref.getText().substring(1);
    int colon = text.indexOf(':');
    return colon < 0 ? text : text.substring(0, colon);
  }

  /** The output a {@code %name} or {@code %name:i} token refers to, among the nodes built so far. */
  private Output resolve(Graph g, Token ref, Map<String, Token> declared) {
    String text = ref.getText().substring(1);
    Operation op = resolveOp(g, ref, declared);
    int index = 0;
    if (text.length() > op.name().length()) {
      String digits = text.substring(op.name().length() + 1);
      index = digits.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(digits);
    }
    if (index >= op.numOutputs()) {
      throw error(ref, op + " has " + plural(op.numOutputs(), "output") + ", so '" + ref.getText()
          + "' does not exist");
    }
    return op.output(index);
  }

  /** The node a {@code %name} token names, among the nodes built so far. */
  private Operation resolveOp(Graph g, Token ref, Map<String, Token> declared) {
    String name = refName(ref);
    Optional<Operation> op = g.findOperation(name);
    if (op.isEmpty()) {
      Token later = declared.get(name);
      if (later != null && later.getTokenIndex() < ref.getTokenIndex()) {
        throw error(ref, "'%" + name + "' is used in its own definition (a graph has no cycles)");
      }
      if (later != null) {
        throw error(ref, "'%" + name + "' is used before its definition at " + position(later)
            + " (nodes must come in topological order; a graph has no cycles)");
      }
      throw error(ref, "no node named '%" + name + "'");
    }
    return op.get();
  }

  private String name(KilnParser.NameContext n) {
    return n.STRING() != null ? ValueReader.unquote(this, n.STRING().getSymbol()) : n.getText();
  }

  private static String position(Token t) {
    return t.getLine() + ":" + (t.getCharPositionInLine() + 1);
  }

  private static String plural(int n, String word) {
    return n + " " + word + (n == 1 ? "" : "s");
  }

  // ---------------------------------------------------------------- shapes (shared with ValueReader)

  Shape shape(ShapeContext s) {
    if (s.star != null) {
      return Shape.unknown();
    }
    int[] dims = new int[s.dim().size()];
    for (int i = 0; i < dims.length; i++) {
      DimContext d = s.dim(i);
      if (d.INT() == null) {
        dims[i] = -1;
        continue;
      }
      Token t = d.INT().getSymbol();
      long v = t.getText().length() > 11 ? Long.MAX_VALUE : Long.parseLong(t.getText());
      if (v < 0 || v > Integer.MAX_VALUE) {
        throw error(t, "dimension " + t.getText() + " is not a size (0 to " + Integer.MAX_VALUE + ") or ?");
      }
      dims[i] = (int) v;
    }
    return Shape.of(dims);
  }
}
