package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Moves a range of a dense iteration space between a dense block and an operand that broadcasts to
 * the space (NumPy rules): {@link #gather} reads the operand's elements for dense indices
 * [lo, lo+len), {@link #scatter} writes them back (a broadcast dimension receives the same value many
 * times, so the last one is written). Dimensions are collapsed once, so a bias [k] against [n,k] is
 * rows of k contiguous elements and a scalar-like operand is one repeated element.
 */
public final class BroadcastCopy {
  private final DType dtype;
  private final int[] sizes;   // collapsed dimensions, outermost first
  private final int[] strides; // operand stride per collapsed dimension (0 where broadcast)

  private BroadcastCopy(DType dtype, int[] sizes, int[] strides) {
    this.dtype = dtype;
    this.sizes = sizes;
    this.strides = strides;
  }

  /** The copy plan for an operand of shape {@code operand} in the dense space {@code dense}. */
  public static BroadcastCopy of(DType dtype, int[] dense, int[] operand) {
    int r = dense.length;
    int[] own = new int[r];
    int acc = 1;
    for (int d = r - 1; d >= 0; d--) {
      int e = d - (r - operand.length);
      int size = e >= 0 ? operand[e] : 1;
      own[d] = size == 1 ? 0 : acc;
      acc *= size;
    }
    List<int[]> dims = new ArrayList<>(); // {size, stride}, innermost first
    for (int d = r - 1; d >= 0; d--) {
      if (dense[d] == 1) {
        continue;
      }
      int[] last = dims.isEmpty() ? null : dims.get(dims.size() - 1);
      if (last != null && own[d] == last[1] * last[0]) {
        last[0] *= dense[d];
      } else {
        dims.add(new int[] {dense[d], own[d]});
      }
    }
    if (dims.isEmpty()) {
      dims.add(new int[] {1, 0});
    }
    int k = dims.size();
    int[] sizes = new int[k];
    int[] strides = new int[k];
    for (int i = 0; i < k; i++) {
      sizes[i] = dims.get(k - 1 - i)[0];
      strides[i] = dims.get(k - 1 - i)[1];
    }
    return new BroadcastCopy(dtype, sizes, strides);
  }

  /** Length of the index scratch array {@link #gather} and {@link #scatter} need. */
  public int rank() {
    return sizes.length;
  }

  /** dst[dstOff .. dstOff+len) = the operand's elements at dense indices [lo, lo+len). */
  public void gather(Object src, Object dst, int dstOff, int lo, int len, int[] idx) {
    walk(src, dst, dstOff, lo, len, true, idx);
  }

  /** The operand's elements at dense indices [lo, lo+len) = src[srcOff .. srcOff+len). */
  public void scatter(Object src, int srcOff, Object dst, int lo, int len, int[] idx) {
    walk(dst, src, srcOff, lo, len, false, idx);
  }

  private void walk(Object operand, Object dense, int denseOff, int lo, int len, boolean read, int[] idx) {
    int k = sizes.length;
    int inner = sizes[k - 1];
    int innerStride = strides[k - 1];
    // Multi-index of lo over the outer dimensions, and the operand offset of that row.
    int row = lo / inner;
    int col = lo - row * inner;
    int base = 0;
    for (int d = k - 2, rem = row; d >= 0; d--) {
      idx[d] = rem % sizes[d];
      rem /= sizes[d];
      base += idx[d] * strides[d];
    }
    int done = 0;
    while (done < len) {
      int chunk = Math.min(inner - col, len - done);
      if (innerStride != 0) {
        if (read) {
          System.arraycopy(operand, base + col, dense, denseOff + done, chunk);
        } else {
          System.arraycopy(dense, denseOff + done, operand, base + col, chunk);
        }
      } else if (read) {
        fill(operand, base, dense, denseOff + done, chunk);
      } else {
        System.arraycopy(dense, denseOff + done + chunk - 1, operand, base, 1);
      }
      done += chunk;
      col = 0;
      for (int d = k - 2; d >= 0; d--) { // next row: carry through the outer dimensions
        base += strides[d];
        if (++idx[d] < sizes[d]) {
          break;
        }
        base -= strides[d] * sizes[d];
        idx[d] = 0;
      }
    }
  }

  private void fill(Object src, int at, Object dst, int from, int n) {
    switch (dtype) {
      case FLOAT32 -> Arrays.fill((float[]) dst, from, from + n, ((float[]) src)[at]);
      case FLOAT64 -> Arrays.fill((double[]) dst, from, from + n, ((double[]) src)[at]);
      case INT32 -> Arrays.fill((int[]) dst, from, from + n, ((int[]) src)[at]);
      case INT64 -> Arrays.fill((long[]) dst, from, from + n, ((long[]) src)[at]);
      case BOOL -> Arrays.fill((boolean[]) dst, from, from + n, ((boolean[]) src)[at]);
    }
  }
}
