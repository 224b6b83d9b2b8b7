package dev.kiln.runtime.exec;

import dev.kiln.graph.ControlFlowOp;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A While whose loop variables change shape across iterations (within their shape invariants). Its
 * condition and body are compiled once per distinct set of concrete loop-variable types met, and
 * each iteration's values are copied out of the body's buffers into arrays of their own size. The
 * node's outputs get arrays of the final shapes; their shapes go to {@code shapeSlots}, from which the
 * rest of the run is compiled ({@link DynamicTail}).
 */
final class DynamicLoopKernel implements Kernel {
  /** Past this many compiled shape sets, the caches start over (a growing value gives one per iteration). */
  private static final int MAX_CACHED = 256;

  private final Operation op;
  private final Session session;
  private final int n;
  private final int[] in;
  private final int[] out;
  private final int[] shapeSlots;
  private final List<TensorType> inputTypes;
  private final long max;
  private final Map<List<TensorType>, Plan> conds = new ConcurrentHashMap<>();
  private final Map<List<TensorType>, Plan> bodies = new ConcurrentHashMap<>();

  /** The scopes of the condition and the body (see {@link PlanCompiler#compileBody}). */
  private final String[] scopes;
  /** The condition and the body, optimized once for all the shapes they are compiled for. */
  private final dev.kiln.graph.Subgraph[] graphs;

  DynamicLoopKernel(KernelSpec spec, Session session, int[] shapeSlots, String condScope, String bodyScope) {
    this.scopes = new String[] {condScope, bodyScope};
    this.graphs = new dev.kiln.graph.Subgraph[] {PlanCompiler.optimizeBody(session, spec.op().subgraphs().get(0)),
        PlanCompiler.optimizeBody(session, spec.op().subgraphs().get(1))};
    this.op = spec.op();
    this.session = session;
    this.n = spec.outputs().size();
    this.in = spec.inputSlots();
    this.out = spec.outputSlots();
    this.shapeSlots = shapeSlots;
    this.inputTypes = spec.inputs();
    long m = op.attrs().getLong(ControlFlowOp.MAXIMUM_ITERATIONS);
    this.max = m < 0 ? Long.MAX_VALUE : m;
  }

  @Override
  public void run(Object[] frame) {
    List<TensorType> types = new ArrayList<>(inputTypes);
    Object[] current = new Object[n];
    for (int j = 0; j < n; j++) {
      current[j] = frame[in[j]];
    }
    for (long it = 0; it < max; it++) {
      List<TensorType> key = List.copyOf(types);
      Plan cond = plan(conds, 0, key);
      Object[] cf = cond.acquireFrame();
      try {
        bind(cond, cf, frame, current);
        for (Kernel k : cond.kernels) {
          k.run(cf);
        }
        if (!((boolean[]) cf[cond.resultSlots[0]])[0]) {
          break;
        }
      } finally {
        cond.releaseFrame(cf);
      }
      Plan body = plan(bodies, 1, key);
      Object[] bf = body.acquireFrame();
      try {
        bind(body, bf, frame, current);
        for (Kernel k : body.kernels) {
          k.run(bf);
        }
        for (int j = 0; j < n; j++) {
          TensorType t = body.resultTypes.get(j);
          ControlFlowTypes.checkInvariant(op, j, types.get(j), t);
          int size = t.shape().elementCount();
          Object next = HostBuffers.allocate(t.dtype(), size);
          System.arraycopy(bf[body.resultSlots[j]], 0, next, 0, size);
          current[j] = next;
          types.set(j, t);
        }
      } finally {
        body.releaseFrame(bf);
      }
    }
    for (int j = 0; j < n; j++) {
      Object v = current[j];
      if (v == frame[in[j]]) { // no iteration ran: the output must not alias the input's storage
        int size = types.get(j).shape().elementCount();
        Object copy = HostBuffers.allocate(types.get(j).dtype(), size);
        System.arraycopy(v, 0, copy, 0, size);
        v = copy;
      }
      frame[out[j]] = v;
      frame[shapeSlots[j]] = types.get(j).shape();
    }
  }

  private void bind(Plan plan, Object[] f, Object[] frame, Object[] current) {
    int[] feeds = plan.feedSlots;
    for (int j = 0; j < n; j++) {
      f[feeds[j]] = current[j];
    }
    for (int k = n; k < in.length; k++) {
      f[feeds[k]] = frame[in[k]];
    }
  }

  private Plan plan(Map<List<TensorType>, Plan> cache, int k, List<TensorType> types) {
    Plan p = cache.get(types);
    if (p == null) {
      if (cache.size() >= MAX_CACHED) {
        cache.clear();
      }
      p = PlanCompiler.compileOptimizedBody(session, graphs[k], types, scopes[k]);
      cache.put(types, p);
    }
    return p;
  }
}
