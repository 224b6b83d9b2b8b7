package dev.kiln.runtime.kernels;

/**
 * A kernel that walks up to three broadcast inputs and one dense output with a {@link BroadcastPlan},
 * splitting large outputs over the cores.
 */
final class ElementwiseKernel implements Kernel {
  private final int slotA;
  private final int slotB;
  private final int slotC;
  private final int slotOut;
  private final BroadcastPlan plan;
  private final BroadcastPlan.Rows rows;
  private final int parts;

  /**
   * @param unitCost rough cost of one element relative to an add, to decide when to split
   */
  ElementwiseKernel(KernelSpec spec, BroadcastPlan plan, BroadcastPlan.Rows rows, int unitCost) {
    int[] in = spec.inputSlots();
    this.slotA = in.length > 0 ? in[0] : -1;
    this.slotB = in.length > 1 ? in[1] : -1;
    this.slotC = in.length > 2 ? in[2] : -1;
    this.slotOut = spec.outputSlots()[0];
    this.plan = plan;
    this.rows = rows;
    this.parts = Parallel.parts(plan.size, unitCost);
  }

  /** The plan for an op whose output shape is the broadcast of all its inputs. */
  static BroadcastPlan planFor(KernelSpec spec) {
    int k = spec.inputs().size();
    int[][] operands = new int[k][];
    for (int i = 0; i < k; i++) {
      operands[i] = KernelSupport.inDims(spec, i);
    }
    try {
      return BroadcastPlan.of(KernelSupport.outDims(spec, 0), operands);
    } catch (IllegalArgumentException e) {
      throw KernelSupport.error(spec, "input shapes %s do not broadcast to output shape %s",
          String.join(", ", spec.inputs().stream().map(t -> t.shape().toString()).toList()),
          spec.outputs().get(0).shape());
    }
  }

  @Override
  public void run(Object[] frame) {
    Object a = slotA >= 0 ? frame[slotA] : null;
    Object b = slotB >= 0 ? frame[slotB] : null;
    Object c = slotC >= 0 ? frame[slotC] : null;
    Object out = frame[slotOut];
    if (parts <= 1) {
      if (plan.isSingleRow()) {
        rows.run(a, 0, b, 0, c, 0, out, 0, plan.size); // same shapes or scalars: one flat loop
      } else {
        plan.forEachRow(0, plan.size, a, b, c, out, rows);
      }
    } else {
      Parallel.split(plan.size, parts, (lo, hi) -> plan.forEachRow(lo, hi, a, b, c, out, rows));
    }
  }
}
