package dev.kiln.optimizer;

import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Output;
import dev.kiln.graph.Primitive;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MatMul epilogue fusion (Grappler's remapper {@code _FusedMatMul}): a float MatMul followed by a bias
 * add (an Add whose other operand is [n] or [1,n] for an [m,n] product, or a BiasAdd) and/or an activation (Relu,
 * Sigmoid, Tanh, or Maximum with a scalar constant 0) becomes one {@code FusedMatMul} node that takes
 * over the last node's name. Fuses only when every value it swallows is read by the next node of the
 * pattern alone: not fetched, fed, targeted, read elsewhere, or a control input (a later use of only
 * its shape, as gradients' ReduceSumLike makes, is rewired to the fused output; so is relu's gradient
 * mask {@code Greater(z, 0)} of the pre-activation z, which then reads relu(z): the same mask), and only
 * when the bias add and activation wait for no assign the MatMul does not (see {@link AssignOrder}). Runs before
 * elementwise fusion, which would otherwise take the bias add and activation. Counts "nodes fused".
 *
 * <p>{@link #convolutions()} is the same pass for Conv2D (Grappler's {@code _FusedConv2D}): a float
 * Conv2D followed by a BiasAdd of its data format (or, for NHWC, an Add of a [K] bias), or by an
 * inference BatchNorm (NHWC, its statistics outputs unused), and/or an activation becomes one
 * {@code FusedConv2D}, under the same rules.
 */
public final class FuseMatMulEpilogue implements Pass {
  /** The node type whose epilogue a pass fuses, the fused node's type, and the pass's name. */
  private enum Head {
    MATMUL("MatMul", "FusedMatMul", "fuse_matmul"),
    CONV2D("Conv2D", "FusedConv2D", "fuse_conv");

    final String type;
    final String fused;
    final String pass;

    Head(String type, String fused, String pass) {
      this.type = type;
      this.fused = fused;
      this.pass = pass;
    }
  }

  private final Head head;

  /** The MatMul pass: a pass with no state of its own; the {@link PassManager} runs it. */
  public FuseMatMulEpilogue() {
    this(Head.MATMUL);
  }

  private FuseMatMulEpilogue(Head head) {
    this.head = head;
  }

  /** The pass fusing a Conv2D with its bias add and activation into a {@code FusedConv2D}. */
  public static FuseMatMulEpilogue convolutions() {
    return new FuseMatMulEpilogue(Head.CONV2D);
  }

  @Override
  public String name() {
    return head.pass;
  }

  /**
   * A matched pattern: the MatMul (or Conv2D), the optional bias add (or inference BatchNorm) and its
   * other operands (the bias; BatchNorm's scale, offset, mean and variance), the optional activation node, and
   * the relu masks ({@code Greater(z, 0)}, as relu's gradient makes) that read the pre-activation z and
   * will read the fused relu output instead: relu(z) > 0 exactly when z > 0.
   */
  private record Match(Operation matmul, Operation add, List<Output> operands, Operation act, String activation,
      List<Operation> masks) {
    Match(Operation matmul, Operation add, List<Output> operands, Operation act, String activation) {
      this(matmul, add, operands, act, activation, List.of());
    }

    Operation last() {
      return act != null ? act : add;
    }

    List<Operation> nodes() {
      List<Operation> l = new ArrayList<>();
      l.add(matmul);
      if (add != null) {
        l.add(add);
      }
      if (act != null) {
        l.add(act);
      }
      return l;
    }
  }

  @Override
  public Program run(Program p, PassStatistics stats) {
    List<Operation> ops = p.graph().operations();
    Map<Output, List<Operation>> readers = new HashMap<>();
    Map<Output, List<Operation>> shapeUsers = new HashMap<>();
    Set<Operation> pinned = new HashSet<>(p.targets()); // observed in ways other than one data reader
    for (Operation op : ops) {
      for (int i = 0; i < op.numInputs(); i++) {
        (usesShapeOnly(op, i) ? shapeUsers : readers).computeIfAbsent(op.input(i), k -> new ArrayList<>()).add(op);
      }
      pinned.addAll(op.controlInputs());
    }
    p.fetches().forEach(f -> pinned.add(f.op()));
    Set<Operation> fedOps = new HashSet<>();
    p.fed().forEach(f -> fedOps.add(f.op()));
    pinned.addAll(fedOps);

    AssignOrder order = AssignOrder.of(ops);
    Map<Operation, Match> byLast = new HashMap<>();
    Set<Operation> absorbed = new HashSet<>();
    for (Operation op : ops) {
      if (!op.type().equals(head.type) || pinned.contains(op) || !op.outputType(0).dtype().isFloating()) {
        continue;
      }
      Match m = match(head, op, readers, shapeUsers, Set.copyOf(p.fetches()), pinned);
      if (m != null && !masksAfter(m, ops)) {
        // A mask built before the relu cannot read the fused output: fuse the bias add alone.
        m = m.add() == null ? null : new Match(m.matmul(), m.add(), m.operands(), null, "none");
      }
      // Two MatMuls can share one Add (matmul(a, b) + matmul(c, d)): the first match takes it, and
      // the other MatMul stays a plain node, the bias of the first.
      if (m != null && !shapeUsedBefore(m, shapeUsers, ops) && m.nodes().stream().noneMatch(absorbed::contains)
          && m.nodes().stream().noneMatch(fedOps::contains) // a feed replaces a value: it stays a node
          && m.operands().stream().noneMatch(o -> absorbed.contains(o.op()))
          && order.sameAssigns(m.matmul(), m.last())) { // else the MatMul would read a variable late
        byLast.put(m.last(), m);
        absorbed.addAll(m.nodes());
      }
    }
    if (byLast.isEmpty()) {
      return p;
    }
    Set<Operation> activations = new HashSet<>();
    byLast.values().forEach(m -> {
      if (m.act() != null) {
        activations.add(m.act());
      }
    });
    Rewriter rw = new Rewriter(p);
    long fused = 0;
    for (Operation op : ops) {
      Match m = byLast.get(op);
      if (m != null) {
        emit(rw, head, m);
        fused += m.nodes().size();
      } else if (!absorbed.contains(op) && !onlyReadByAbsorbed(op, readers, pinned, activations)) {
        rw.copy(op);
      }
    }
    stats.add("nodes fused", fused);
    stats.add("fused nodes", byLast.size());
    return rw.finish();
  }

  private static Match match(Head head, Operation mm, Map<Output, List<Operation>> readers,
      Map<Output, List<Operation>> shapeUsers, Set<Output> fetched, Set<Operation> pinned) {
    Operation next = soleReader(mm.output(0), readers, pinned);
    if (next == null) {
      return reluWithMasks(mm, null, List.of(), mm.output(0), readers, pinned);
    }
    if (!next.device().equals(mm.device())) {
      return null;
    }
    Operation add = null;
    List<Output> bias = List.of();
    boolean batchNorm = head == Head.CONV2D && isInferenceBatchNorm(next, mm, readers, shapeUsers, fetched);
    if (Elementwise.is(next, Primitive.ADD) || isBiasAddOf(head, next, mm) || batchNorm) {
      Output other = next.input(0).equals(mm.output(0)) ? next.input(1) : next.input(0);
      if (other.equals(mm.output(0)) || (!batchNorm && !isBias(head, mm, next, other.shape()))) {
        return null;
      }
      add = next;
      bias = batchNorm ? next.inputs().subList(1, 5) : List.of(other);
      next = pinned.contains(add) ? null : soleReader(add.output(0), readers, pinned);
      if (next == null && !pinned.contains(add)) {
        Match masked = reluWithMasks(mm, add, bias, add.output(0), readers, pinned);
        if (masked != null) {
          return masked;
        }
      }
    }
    Output value = (add != null ? add : mm).output(0);
    String activation = next == null || !next.device().equals(mm.device()) ? null : activation(next, value);
    if (activation == null) {
      return add == null ? null : new Match(mm, add, bias, null, "none");
    }
    return new Match(mm, add, bias, next, activation);
  }

  /**
   * Inputs whose value no kernel reads, only its shape (gradient graphs use them to unbroadcast): a
   * fused node's output, of the same shape, can stand in for the value it swallowed.
   */
  static boolean usesShapeOnly(Operation op, int input) {
    Primitive p = Elementwise.primitive(op).orElse(null);
    if (p == Primitive.ZEROS_LIKE || p == Primitive.ONES_LIKE) {
      return input == 0;
    }
    return switch (op.type()) {
      case "ReduceSumLike", "ReshapeLike" -> input == 1;
      default -> false;
    };
  }

  /** Whether a swallowed value's shape is used before the fused node exists (its last node). */
  private static boolean shapeUsedBefore(Match m, Map<Output, List<Operation>> shapeUsers, List<Operation> ops) {
    int last = ops.indexOf(m.last());
    for (Operation n : m.nodes()) {
      for (Operation u : shapeUsers.getOrDefault(n.output(0), List.of())) {
        if (ops.indexOf(u) < last || m.nodes().contains(u)) {
          return true;
        }
      }
    }
    return false;
  }

  /** A constant read only by absorbed activations (Maximum's 0): it would be left dead. */
  private static boolean onlyReadByAbsorbed(Operation op, Map<Output, List<Operation>> readers, Set<Operation> pinned,
      Set<Operation> absorbed) {
    if (!op.type().equals("Const") || pinned.contains(op)) {
      return false;
    }
    List<Operation> r = readers.getOrDefault(op.output(0), List.of());
    return !r.isEmpty() && absorbed.containsAll(r);
  }

  /**
   * The match ending in a relu of {@code z} when z's readers are that relu and relu masks
   * {@code Greater(z, 0)} only (the forward activation and its gradient's mask), or null.
   */
  private static Match reluWithMasks(Operation mm, Operation add, List<Output> bias, Output z,
      Map<Output, List<Operation>> readers, Set<Operation> pinned) {
    if (pinned.contains(z.op())) {
      return null;
    }
    Operation relu = null;
    List<Operation> masks = new ArrayList<>();
    for (Operation r : readers.getOrDefault(z, List.of())) {
      if (Elementwise.is(r, Primitive.GREATER) && r.input(0).equals(z) && !r.input(1).equals(z) && isScalarZero(r.input(1))) {
        masks.add(r);
      } else if (relu == null && r.device().equals(mm.device()) && Elementwise.activationAttr(Primitive.RELU).equals(activation(r, z)) && !masks.contains(r)) {
        relu = r;
      } else {
        return null;
      }
    }
    return relu == null || masks.isEmpty() ? null : new Match(mm, add, bias, relu, Elementwise.activationAttr(Primitive.RELU), List.copyOf(masks));
  }

  /** Whether the masks that will read the fused output come after it (which takes the relu's place). */
  private static boolean masksAfter(Match m, List<Operation> ops) {
    int last = ops.indexOf(m.last());
    return m.masks().stream().allMatch(k -> ops.indexOf(k) > last);
  }

  /** The only node reading {@code v}, if exactly one node reads it once and nothing else observes it. */
  private static Operation soleReader(Output v, Map<Output, List<Operation>> readers, Set<Operation> pinned) {
    List<Operation> r = readers.getOrDefault(v, List.of());
    if (r.size() != 1 || pinned.contains(v.op())) {
      return null;
    }
    return r.get(0);
  }

  /**
   * An inference BatchNorm ({@code training} false) normalizing an NHWC convolution's output (input 0)
   * whose statistics outputs nothing reads or fetches: (x - mean) / sqrt(variance + epsilon) * scale + offset is a
   * per-channel scale and shift of the convolution's output.
   */
  private static boolean isInferenceBatchNorm(Operation op, Operation conv, Map<Output, List<Operation>> readers,
      Map<Output, List<Operation>> shapeUsers, Set<Output> fetched) {
    if (!op.type().equals("BatchNorm") || op.attrs().getBool("training", true) || nchw(conv)
        || !op.input(0).equals(conv.output(0)) || op.inputs().subList(1, 5).contains(conv.output(0))) {
      return false;
    }
    for (int i = 1; i < op.numOutputs(); i++) {
      if (readers.containsKey(op.output(i)) || shapeUsers.containsKey(op.output(i)) || fetched.contains(op.output(i))) {
        return false;
      }
    }
    return true;
  }

  /** A BiasAdd of {@code head}'s output (input 0) along its channels: any for a product, the same data format for a convolution. */
  private static boolean isBiasAddOf(Head head, Operation op, Operation mm) {
    if (!op.type().equals("BiasAdd") || !op.input(0).equals(mm.output(0))) {
      return false;
    }
    return head == Head.MATMUL || nchw(op) == nchw(mm);
  }

  private static boolean nchw(Operation op) {
    return op.attrs().has("data_format") && op.attrs().getString("data_format").equals("NCHW");
  }

  /**
   * Whether {@code bias}, added by {@code add} to {@code mm}'s output, is a bias the fused node takes: a
   * BiasAdd's always (its inference checked it); an Add's when it is a product's [n] or [1,n], or an
   * NHWC convolution's [K].
   */
  private static boolean isBias(Head head, Operation mm, Operation add, Shape bias) {
    Shape out = mm.outputType(0).shape();
    if (add.type().equals("BiasAdd")) {
      return true;
    }
    if (head == Head.MATMUL) {
      return isBias(bias, out);
    }
    return !nchw(mm) && bias.hasKnownRank() && bias.rank() == 1 && out.hasKnownRank() && out.dim(3) >= 0
        && bias.dim(0) == out.dim(3);
  }

  /** A bias for an [m,n] product: shape [n] or [1,n] with n known and equal. */
  private static boolean isBias(Shape bias, Shape product) {
    if (!bias.hasKnownRank() || product.rank() != 2 || product.dim(1) < 0) {
      return false;
    }
    long n = product.dim(1);
    return switch (bias.rank()) {
      case 1 -> bias.dim(0) == n;
      case 2 -> bias.dim(0) == 1 && bias.dim(1) == n;
      default -> false;
    };
  }

  /** FusedMatMul's activation attribute for {@code op} applied to {@code value}, or null. */
  private static String activation(Operation op, Output value) {
    Primitive p = Elementwise.primitive(op).orElse(null);
    if (p == Primitive.MAXIMUM) {
      Output other = op.input(0).equals(value) ? op.input(1) : op.input(0);
      return !other.equals(value) && isScalarZero(other) ? Elementwise.activationAttr(Primitive.RELU) : null;
    }
    return p != null && p.isActivation() ? Elementwise.activationAttr(p) : null;
  }

  private static boolean isScalarZero(Output o) {
    if (!o.op().type().equals("Const") || o.shape().rank() != 0) {
      return false;
    }
    Tensor t = o.op().attrs().getTensor("value");
    return t.doubleValue() == 0.0 && !Double.isNaN(t.doubleValue());
  }

  private static void emit(Rewriter rw, Head head, Match m) {
    OperationBuilder b = rw.newNodeReplacing(head.fused, m.last());
    b.addInput(rw.map(m.matmul().input(0))).addInput(rw.map(m.matmul().input(1)));
    m.operands().forEach(o -> b.addInput(rw.map(o)));
    if (m.add() != null && m.add().type().equals("BatchNorm")) {
      b.setAttr("epsilon", m.add().attrs().getDouble("epsilon"));
    }
    if (head == Head.MATMUL) {
      b.setAttr("transpose_a", m.matmul().attrs().getBool("transpose_a", false))
          .setAttr("transpose_b", m.matmul().attrs().getBool("transpose_b", false));
    } else {
      b.setAttrs(m.matmul().attrs());
    }
    b.setAttr("activation", m.activation()).setDevice(m.matmul().device());
    Set<Operation> controls = new LinkedHashSet<>();
    m.nodes().forEach(n -> controls.addAll(n.controlInputs()));
    controls.forEach(c -> b.addControlInput(rw.map(c)));
    Operation f = b.build();
    for (Operation n : m.nodes()) {
      // Every swallowed value has the fused output's shape and dtype: shape-only users take it. A
      // BatchNorm's statistics outputs have no users (isInferenceBatchNorm).
      rw.replace(n, java.util.Collections.nCopies(n.numOutputs(), f.output(0)), f);
    }
  }
}
