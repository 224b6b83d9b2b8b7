package dev.kiln.runtime.exec;

import dev.kiln.graph.ControlFlowOp;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelSpec;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Kernels of If and While nodes. Each body is compiled once, when the enclosing plan is, into a plan
 * of its own ({@link PlanCompiler#compileBody}: planned buffers, fused kernels); a run takes one frame
 * per body from the body plan's pool, binds the captured values' arrays to its parameter slots once,
 * and per iteration only rebinds the loop values and runs the kernels, so a loop allocates nothing
 * per iteration. The loop values live in the node's output arrays and in one scratch array per
 * variable, swapped after each iteration; a variable the body passes through unchanged is not copied.
 */
public final class ControlFlowKernels {
  private ControlFlowKernels() {}

  /** The kernel of an If or While node of a run's graph; {@code session} (null: none) gives random nodes their streams. */
  public static Kernel create(KernelSpec spec, Session session) {
    String name = spec.op().name();
    return create(spec, session, name + "#0/", name + "#1/");
  }

  /**
   * The kernel of an If or While node; {@code session} (null: none) gives random nodes their streams,
   * named within {@code scope0}/{@code scope1}, the paths of its two subgraphs.
   */
  public static Kernel create(KernelSpec spec, Session session, String scope0, String scope1) {
    Operation op = spec.op();
    return switch ((ControlFlowOp) op.def()) {
      case ControlFlowOp.Cond c -> cond(spec, session, scope0, scope1);
      case ControlFlowOp.While w -> whileLoop(spec, session, scope0, scope1);
    };
  }

  private static Kernel cond(KernelSpec spec, Session session, String scope0, String scope1) {
    Operation op = spec.op();
    List<TensorType> captures = spec.inputs().subList(1, spec.inputs().size());
    Plan then = PlanCompiler.compileBody(session, op.subgraphs().get(0), captures, 0, scope0);
    Plan other = PlanCompiler.compileBody(session, op.subgraphs().get(1), captures, 0, scope1);
    int[] in = spec.inputSlots();
    int[] out = spec.outputSlots();
    int[] sizes = spec.outputs().stream().mapToInt(t -> t.shape().elementCount()).toArray();
    int pred = in[0];
    return frame -> {
      Plan branch = ((boolean[]) frame[pred])[0] ? then : other;
      Object[] f = branch.acquireFrame();
      try {
        int[] feeds = branch.feedSlots;
        for (int k = 0; k < feeds.length; k++) {
          f[feeds[k]] = frame[in[k + 1]];
        }
        for (Kernel k : branch.kernels) {
          k.run(f);
        }
        int[] results = branch.resultSlots;
        for (int j = 0; j < results.length; j++) {
          System.arraycopy(f[results[j]], 0, frame[out[j]], 0, sizes[j]);
        }
      } finally {
        branch.releaseFrame(f);
      }
    };
  }

  private static Kernel whileLoop(KernelSpec spec, Session session, String scope0, String scope1) {
    Operation op = spec.op();
    int n = spec.outputs().size() - (int) op.attrs().getLong(ControlFlowOp.NUM_STACKED);
    Plan cond = PlanCompiler.compileBody(session, op.subgraphs().get(0), spec.inputs(), 0, scope0);
    Plan body = PlanCompiler.compileBody(session, op.subgraphs().get(1), spec.inputs(), n, scope1);
    long max = op.attrs().getLong(ControlFlowOp.MAXIMUM_ITERATIONS);
    return new WhileKernel(spec, n, cond, body, max < 0 ? Long.MAX_VALUE : max);
  }

  /** The loop: the state of one run (the arrays holding the loop values) is taken from a one-entry pool. */
  private static final class WhileKernel implements Kernel {
    private final int n;
    private final int[] in;
    private final int[] out;
    private final int[] sizes;
    private final List<TensorType> types;
    private final Plan cond;
    private final Plan body;
    private final long max;
    /** Whether the body returns loop variable j unchanged (its own parameter). */
    private final boolean[] passThrough;
    private final AtomicReference<State> idle = new AtomicReference<>();

    /** The stacked results: values pushed onto the node's last outputs each iteration. */
    private final int stacked;
    private final int[] stackSizes;

    WhileKernel(KernelSpec spec, int n, Plan cond, Plan body, long max) {
      this.n = n;
      this.stacked = spec.outputs().size() - n;
      this.stackSizes = new int[stacked];
      for (int i = 0; i < stacked; i++) {
        stackSizes[i] = body.resultTypes.get(n + i).shape().elementCount();
      }
      this.in = spec.inputSlots();
      this.out = spec.outputSlots();
      this.sizes = spec.outputs().subList(0, n).stream().mapToInt(t -> t.shape().elementCount()).toArray();
      this.types = spec.outputs().subList(0, n);
      this.cond = cond;
      this.body = body;
      this.max = max;
      this.passThrough = new boolean[n];
      for (int j = 0; j < n; j++) {
        passThrough[j] = body.resultSlots[j] == body.feedSlots[j];
      }
    }

    /** The arrays of one run: the current and next loop values (the node's outputs and the scratch arrays). */
    private final class State {
      final Object[] scratch = new Object[n];
      final Object[] current = new Object[n];
      final Object[] next = new Object[n];

      State() {
        for (int j = 0; j < n; j++) {
          scratch[j] = HostBuffers.allocate(types.get(j).dtype(), sizes[j]);
        }
      }
    }

    @Override
    public void run(Object[] frame) {
      State s = idle.getAndSet(null);
      if (s == null) {
        s = new State();
      }
      Object[] cf = cond.acquireFrame();
      Object[] bf = body.acquireFrame();
      try {
        loop(frame, s.current, s.next, s.scratch, cf, bf);
      } finally {
        cond.releaseFrame(cf);
        body.releaseFrame(bf);
        idle.set(s);
      }
    }

    private void loop(Object[] frame, Object[] current, Object[] next, Object[] scratch, Object[] cf, Object[] bf) {
      for (int j = 0; j < n; j++) {
        current[j] = frame[out[j]];
        next[j] = scratch[j];
        System.arraycopy(frame[in[j]], 0, current[j], 0, sizes[j]);
      }
      int[] condFeeds = cond.feedSlots;
      int[] bodyFeeds = body.feedSlots;
      for (int k = n; k < in.length; k++) {
        cf[condFeeds[k]] = frame[in[k]];
        bf[bodyFeeds[k]] = frame[in[k]];
      }
      for (int i = 0; i < stacked; i++) {
        ((StackBuffer) frame[out[n + i]]).clear(stackSizes[i]);
      }
      Kernel[] condKernels = cond.kernels;
      Kernel[] bodyKernels = body.kernels;
      int[] results = body.resultSlots;
      int predicate = cond.resultSlots[0];
      for (long it = 0; it < max; it++) {
        for (int j = 0; j < n; j++) {
          cf[condFeeds[j]] = current[j];
        }
        for (Kernel k : condKernels) {
          k.run(cf);
        }
        if (!((boolean[]) cf[predicate])[0]) {
          break;
        }
        for (int j = 0; j < n; j++) {
          bf[bodyFeeds[j]] = current[j];
        }
        for (Kernel k : bodyKernels) {
          k.run(bf);
        }
        for (int i = 0; i < stacked; i++) {
          ((StackBuffer) frame[out[n + i]]).push(bf[results[n + i]]);
        }
        for (int j = 0; j < n; j++) {
          if (!passThrough[j]) {
            Object t = next[j];
            System.arraycopy(bf[results[j]], 0, t, 0, sizes[j]);
            next[j] = current[j];
            current[j] = t;
          }
        }
      }
      for (int j = 0; j < n; j++) {
        if (current[j] != frame[out[j]]) {
          System.arraycopy(current[j], 0, frame[out[j]], 0, sizes[j]);
        }
      }
    }
  }
}
