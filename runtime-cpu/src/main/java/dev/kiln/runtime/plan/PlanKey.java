package dev.kiln.runtime.plan;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.Arrays;

/**
 * A run's signature: the fed outputs (sorted by node id and output index) with the dtypes and shapes
 * of the fed tensors, the fetches in order, and the targets. Outputs and operations compare by
 * identity, which is sound because a graph is append-only. A run that lends fetched variables
 * (the CPU Session's {@code runNoCopy}) has its own plans. The arrays are the caller's, not copied:
 * they must not change once the key is made.
 */
public final class PlanKey {
  private final Output[] feeds;
  private final int[] feedTypes; // per feed: dtype ordinal, rank, dims...
  private final Output[] fetches;
  private final Operation[] targets;
  private final boolean lend;
  private final int hash;

  /** {@code feeds} and {@code values} must already be sorted with {@link #sortFeeds}. */
  public PlanKey(Output[] feeds, Tensor[] values, Output[] fetches, Operation[] targets) {
    this(feeds, values, fetches, targets, false);
  }

  /** As {@link #PlanKey(Output[], Tensor[], Output[], Operation[])}, for a run that lends fetched variables if {@code lend}. */
  public PlanKey(Output[] feeds, Tensor[] values, Output[] fetches, Operation[] targets, boolean lend) {
    this.lend = lend;
    this.feeds = feeds;
    int len = 0;
    for (Tensor t : values) {
      len += 2 + t.shape().rank();
    }
    int[] types = new int[len];
    int p = 0;
    for (Tensor t : values) {
      Shape s = t.shape();
      int r = s.rank();
      types[p++] = t.dtype().ordinal();
      types[p++] = r;
      for (int i = 0; i < r; i++) {
        types[p++] = s.dim(i);
      }
    }
    this.feedTypes = types;
    this.fetches = fetches;
    this.targets = targets;
    int h = Arrays.hashCode(types);
    for (Output o : feeds) {
      h = 31 * h + System.identityHashCode(o);
    }
    for (Output o : fetches) {
      h = 37 * h + System.identityHashCode(o);
    }
    for (Operation o : targets) {
      h = 41 * h + System.identityHashCode(o);
    }
    this.hash = lend ? ~h : h;
  }

  /** Sorts parallel arrays of fed outputs and values by (node id, output index); insertion sort, as feeds are few. */
  public static void sortFeeds(Output[] outs, Tensor[] values) {
    for (int i = 1; i < outs.length; i++) {
      Output o = outs[i];
      Tensor v = values[i];
      int j = i - 1;
      while (j >= 0 && before(o, outs[j])) {
        outs[j + 1] = outs[j];
        values[j + 1] = values[j];
        j--;
      }
      outs[j + 1] = o;
      values[j + 1] = v;
    }
  }

  /** The fed outputs, sorted. */
  public Output[] feeds() {
    return feeds;
  }

  public Output[] fetches() {
    return fetches;
  }

  public Operation[] targets() {
    return targets;
  }

  /** Whether fetched values that live in a variable's storage at the end of the run are lent, not copied. */
  public boolean lend() {
    return lend;
  }

  private static boolean before(Output a, Output b) {
    int ia = a.op().id();
    int ib = b.op().id();
    return ia != ib ? ia < ib : a.index() < b.index();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PlanKey k && hash == k.hash && lend == k.lend && Arrays.equals(feedTypes, k.feedTypes)
        && identical(feeds, k.feeds) && identical(fetches, k.fetches) && identical(targets, k.targets);
  }

  private static boolean identical(Object[] a, Object[] b) {
    if (a.length != b.length) {
      return false;
    }
    for (int i = 0; i < a.length; i++) {
      if (a[i] != b[i]) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return hash;
  }
}
