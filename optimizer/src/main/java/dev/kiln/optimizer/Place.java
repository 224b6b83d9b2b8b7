package dev.kiln.optimizer;

import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Device placement (soft, as TensorFlow's {@code allow_soft_placement}): every node gets a device,
 * and a {@code CopyToDevice} / {@code CopyToHost} node is inserted on each data edge that crosses
 * devices (one copy per value and direction, shared by its consumers). Rules, in order:
 *
 * <ol>
 *   <li>A node pinned to {@code /cpu:N} stays on the host; a node pinned to a GPU, or not pinned,
 *       goes to the device when the device's {@link KernelRegistry} has a kernel for it and falls back
 *       to the host when not (so Placeholders, whose feeds arrive on the host, and NoOps stay there
 *       unless a device registers kernels for them).
 *   <li>An unpinned VIEW op (Identity, Reshape, ...) follows its input, so a view never costs a copy.
 *   <li>Variables and Consts live where their readers run: on the device if any reader runs there.
 *       A variable the program only writes lives where the values its assigns store are computed
 *       (so an output variable written by a device kernel is not copied to the host every run).
 *       Assign/AssignAdd/AssignSub are colocated with their variable (so the variable is updated in
 *       place, and stays resident on the device across runs).
 * </ol>
 *
 * Fetched values that end on the device are copied back by the runtime when a run synchronizes;
 * the program's fetches are unchanged. Run this pass last: it only adds copies and devices.
 */
public final class Place implements Pass {
  private static final Set<String> FOLLOW_READERS = Set.of("Variable", "Const");
  private static final Set<String> ASSIGNS = Set.of("Assign", "AssignAdd", "AssignSub");

  private final DeviceDescription device;
  private final KernelRegistry kernels;

  /**
   * @param device the accelerator to place on ({@link DeviceDescription#CPU} places everything on
   *     the host)
   * @param kernels the accelerator's kernels: which nodes (types, dtypes, attrs) it runs
   */
  public Place(DeviceDescription device, KernelRegistry kernels) {
    this.device = Objects.requireNonNull(device, "device");
    this.kernels = Objects.requireNonNull(kernels, "kernels");
  }

  @Override
  public String name() {
    return "place";
  }

  @Override
  public Program run(Program p, PassStatistics stats) {
    Map<Operation, String> where = assign(p.graph().operations());
    Rewriter rw = new Rewriter(p);
    Map<Output, Output> copies = new HashMap<>();
    int copyCount = 0;
    for (Operation old : p.graph().operations()) {
      String dev = where.get(old);
      List<Output> inputs = new ArrayList<>();
      for (int i = 0; i < old.numInputs(); i++) {
        Output in = old.input(i);
        Output mapped = rw.map(in);
        if (old.def().readsInput(i) && !where.get(in.op()).equals(dev)) {
          // Two devices only: a value crossing always goes to the other one, so one copy per value.
          Output c = copies.get(in);
          if (c == null) {
            c = copy(rw, mapped, in, dev);
            copies.put(in, c);
            copyCount++;
          }
          mapped = c;
        }
        inputs.add(mapped);
      }
      rw.copy(old, inputs, dev);
    }
    Map<String, Long> perDevice = new java.util.TreeMap<>();
    where.values().forEach(d -> perDevice.merge(d, 1L, Long::sum));
    perDevice.forEach((d, n) -> stats.add("nodes on " + d, n));
    stats.add("copies inserted", copyCount);
    return rw.finish();
  }

  /** One copy of {@code value} (a new-graph value for source {@code src}) onto {@code dev}. */
  private Output copy(Rewriter rw, Output value, Output src, String dev) {
    boolean toHost = !dev.startsWith("/gpu:");
    String hint = src.op().name() + (src.index() > 0 ? "_" + src.index() : "") + (toHost ? "/to_host" : "/to_device");
    return rw.newNode(toHost ? "CopyToHost" : "CopyToDevice", hint).addInput(value).setDevice(dev).build().output(0);
  }

  /** The device of every node (rules in the class comment). */
  Map<Operation, String> assign(List<Operation> ops) {
    String host = DeviceDescription.CPU.name();
    String gpu = device.isGpu() ? device.name() : host;
    Map<Operation, String> where = new HashMap<>();
    Map<Operation, List<Operation>> readers = new HashMap<>();
    for (Operation op : ops) {
      for (int i = 0; i < op.numInputs(); i++) {
        if (op.def().readsInput(i)) {
          readers.computeIfAbsent(op.input(i).op(), k -> new java.util.ArrayList<>()).add(op);
        }
      }
    }
    // Pass 1: everything but the nodes that follow their readers (and what is colocated with them).
    for (Operation op : ops) {
      if (FOLLOW_READERS.contains(op.type()) || ASSIGNS.contains(op.type())) {
        continue;
      }
      String d;
      if (op.device().startsWith("/cpu:") || gpu.equals(host)) {
        d = host;
      } else if (isFollowingView(op) && where.containsKey(op.input(0).op())) {
        d = where.get(op.input(0).op());
      } else {
        d = kernels.hasKernel(op) ? gpu : host;
      }
      where.put(op, d);
    }
    // Pass 2: Variables, then their assigns (colocated), then Consts: on the device if a reader runs
    // there (looking through unpinned views), unless pinned to the host.
    for (String kind : List.of("Variable", "Assign", "Const")) {
      for (Operation op : ops) {
        if (kind.equals("Assign") && ASSIGNS.contains(op.type())) {
          where.put(op, where.getOrDefault(op.input(0).op(), host));
        } else if (op.type().equals(kind)) {
          boolean onGpu = !gpu.equals(host) && !op.device().startsWith("/cpu:")
              && (op.device().startsWith("/gpu:") || readOnDevice(op, readers, where, gpu)
                  || (!readers.containsKey(op) && writtenOnDevice(op, ops, where, gpu)))
              && kernels.hasKernel(op);
          where.put(op, onGpu ? gpu : host);
        }
      }
    }
    // Views placed before their Variable/Const input was known follow it now.
    for (Operation op : ops) {
      if (isFollowingView(op) && FOLLOW_READERS.contains(op.input(0).op().type())) {
        where.put(op, where.get(op.input(0).op()));
      }
    }
    return where;
  }

  private static boolean isFollowingView(Operation op) {
    return op.device().isEmpty() && op.def().traits().contains(OpTrait.VIEW) && op.numInputs() > 0
        && !op.type().startsWith("CopyTo");
  }

  /** Whether an assign to variable {@code var} stores a value computed on {@code gpu}. */
  private static boolean writtenOnDevice(Operation var, List<Operation> ops, Map<Operation, String> where, String gpu) {
    for (Operation op : ops) {
      if (ASSIGNS.contains(op.type()) && op.input(0).op() == var && gpu.equals(where.get(op.input(1).op()))) {
        return true;
      }
    }
    return false;
  }

  /** Whether a node that reads {@code op}'s value runs on {@code gpu}, seen through unpinned views. */
  private static boolean readOnDevice(Operation op, Map<Operation, List<Operation>> readers,
      Map<Operation, String> where, String gpu) {
    for (Operation r : readers.getOrDefault(op, List.of())) {
      if (isFollowingView(r) ? readOnDevice(r, readers, where, gpu) : gpu.equals(where.get(r))) {
        return true;
      }
    }
    return false;
  }
}
