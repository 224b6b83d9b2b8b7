package dev.kiln.runtime.kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * How an elementwise op walks up to three NumPy-broadcast operands against a dense iteration space,
 * fixed when the kernel is created. Dimensions of size 1 are dropped and adjacent dimensions that are
 * contiguous for every operand are merged, so same-shape and scalar operands become one flat row,
 * a bias add [n,k]+[k] becomes n rows of k, and only genuinely strided cases keep several dimensions.
 * Within a row every operand either advances with the dense index (inner stride 1) or stays on one
 * element (inner stride 0), which is what lets the per-row loops vectorize.
 */
final class BroadcastPlan {
  /** Per-row work: each operand's array and start offset, the dense array, its offset, the length. */
  @FunctionalInterface
  interface Rows {
    void run(Object a, int ao, Object b, int bo, Object c, int co, Object dense, int d, int n);
  }

  static final int MAX_OPERANDS = 3;

  final int size;
  final int inner;
  private final int[] innerStride;
  private final int[] outer;      // outer dimension sizes, outermost first
  private final int[] rowDiv;     // rows spanned by one step of each outer dimension
  private final int[][] strides;  // [operand][outer dimension]

  private BroadcastPlan(int size, int inner, int[] innerStride, int[] outer, int[][] strides) {
    this.size = size;
    this.inner = inner;
    this.innerStride = innerStride;
    this.outer = outer;
    this.strides = strides;
    this.rowDiv = new int[outer.length];
    int acc = 1;
    for (int d = outer.length - 1; d >= 0; d--) {
      rowDiv[d] = acc;
      acc *= outer[d];
    }
  }

  /**
   * The plan for a dense space of shape {@code dense} and operands whose shapes broadcast to it
   * (right-aligned, each dimension equal or 1).
   */
  static BroadcastPlan of(int[] dense, int[]... operands) {
    if (operands.length > MAX_OPERANDS) {
      throw new IllegalArgumentException("at most " + MAX_OPERANDS + " operands, got " + operands.length);
    }
    long total = KernelSupport.product(dense, 0, dense.length);
    int k = operands.length;
    int[] innerStride = new int[MAX_OPERANDS];
    if (total == 0 || total == 1) {
      java.util.Arrays.fill(innerStride, 1);
      return new BroadcastPlan((int) total, 1, innerStride, new int[0], new int[MAX_OPERANDS][0]);
    }
    int r = dense.length;
    int[][] own = new int[k][r]; // each operand's stride at each dense dimension (0 where broadcast)
    for (int j = 0; j < k; j++) {
      int[] od = operands[j];
      if (od.length > r) {
        throw new IllegalArgumentException("operand of rank " + od.length + " in a rank " + r + " space");
      }
      int acc = 1;
      for (int d = r - 1; d >= 0; d--) {
        int e = d - (r - od.length);
        int size = e >= 0 ? od[e] : 1;
        if (size != 1 && size != dense[d]) {
          throw new IllegalArgumentException("operand dimension " + size + " does not broadcast to " + dense[d]);
        }
        own[j][d] = size == 1 ? 0 : acc;
        acc *= size;
      }
    }
    // Collapse from the innermost dimension outwards.
    List<int[]> groups = new ArrayList<>(); // {size, stride_0, ..., stride_k-1}, innermost first
    for (int d = r - 1; d >= 0; d--) {
      if (dense[d] == 1) {
        continue;
      }
      int[] last = groups.isEmpty() ? null : groups.get(groups.size() - 1);
      boolean merge = last != null;
      for (int j = 0; j < k && merge; j++) {
        merge = own[j][d] == last[1 + j] * last[0];
      }
      if (merge) {
        last[0] *= dense[d];
      } else {
        int[] g = new int[1 + k];
        g[0] = dense[d];
        for (int j = 0; j < k; j++) {
          g[1 + j] = own[j][d];
        }
        groups.add(g);
      }
    }
    int[] innerGroup = groups.get(0);
    for (int j = 0; j < k; j++) {
      innerStride[j] = innerGroup[1 + j];
    }
    int nOuter = groups.size() - 1;
    int[] outer = new int[nOuter];
    int[][] strides = new int[MAX_OPERANDS][nOuter];
    for (int i = 0; i < nOuter; i++) {
      int[] g = groups.get(nOuter - i); // outermost first
      outer[i] = g[0];
      for (int j = 0; j < k; j++) {
        strides[j][i] = g[1 + j];
      }
    }
    return new BroadcastPlan((int) total, innerGroup[0], innerStride, outer, strides);
  }

  /** 1 if operand {@code j} advances along a row, 0 if it stays on one element. */
  int innerStride(int j) {
    return innerStride[j];
  }

  /**
   * The number of blocks along the outermost dimension when operand {@code j} advances along it (so
   * different blocks touch different elements of j), else 0.
   */
  int outermostBlocksAdvancing(int j) {
    if (outer.length == 0) {
      return innerStride[j] != 0 && size > 0 ? size : 0;
    }
    return strides[j][0] != 0 ? outer[0] : 0;
  }

  /** True when the whole space is one row (same shapes, scalars). */
  boolean isSingleRow() {
    return outer.length == 0;
  }

  /** Calls {@code rows} for each row piece of the dense range [lo, hi). */
  void forEachRow(int lo, int hi, Object a, Object b, Object c, Object dense, Rows rows) {
    int i = lo;
    int row = inner == 0 ? 0 : lo / inner;
    int col = lo - row * inner;
    int[] sa = strides[0];
    int[] sb = strides[1];
    int[] sc = strides[2];
    int ia = innerStride[0];
    int ib = innerStride[1];
    int ic = innerStride[2];
    while (i < hi) {
      int n = Math.min(inner - col, hi - i);
      int ao = col * ia;
      int bo = col * ib;
      int co = col * ic;
      for (int d = 0; d < outer.length; d++) {
        int idx = (row / rowDiv[d]) % outer[d];
        ao += idx * sa[d];
        bo += idx * sb[d];
        co += idx * sc[d];
      }
      rows.run(a, ao, b, bo, c, co, dense, i, n);
      i += n;
      row++;
      col = 0;
    }
  }
}
