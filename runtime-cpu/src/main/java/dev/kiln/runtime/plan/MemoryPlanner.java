package dev.kiln.runtime.plan;

import dev.kiln.runtime.exec.Plan;

import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Primitive;
import dev.kiln.graph.Subgraph;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Memory planning over a final schedule: liveness assigns each computed value a buffer, reusing the
 * buffers of values that are dead, and lets an elementwise op write its output into the buffer of an
 * input that dies at that op (same dtype, same element count). The plan knows, before anything runs,
 * how many bytes one run's buffers take.
 *
 * <p>The caller (a device's plan compiler) describes the schedule as steps over value ids:
 * the values each step defines and reads. Values that live elsewhere (feeds, variables, constants)
 * and views (which share their input's buffer) are not values here: a read through a view is a read
 * of the value it views.
 *
 * <p>Peak bytes: the sum over the plan's buffers of capacity x element size, which is exactly what a
 * run allocates for its frame (buffers are allocated once per frame, at their largest size, and
 * reused across runs). Feeds, variables, constants and fetched copies are not included. The plan
 * also reports the largest total of bytes live at one step, a lower bound no assignment can beat.
 */
public final class MemoryPlanner {
  private MemoryPlanner() {}

  /** A value that needs a buffer: its dtype and element count. */
  public record Value(DType dtype, long elements) {
    public long bytes() {
      return elements * dtype.byteSize();
    }
  }

  /**
   * One step of the schedule.
   *
   * @param defines values this step writes (each gets a buffer)
   * @param reads values this step reads (a value read twice may appear twice)
   * @param mayOverwrite for each defined value, the read values whose buffer it may take over if they
   *     die at this step (same dtype and size)
   */
  public record Step(List<Integer> defines, List<Integer> reads, List<List<Integer>> mayOverwrite) {
    public Step {
      defines = List.copyOf(defines);
      reads = List.copyOf(reads);
      mayOverwrite = mayOverwrite.stream().map(List::copyOf).toList();
      if (mayOverwrite.size() != defines.size()) {
        throw new IllegalArgumentException("mayOverwrite needs one list per defined value");
      }
    }

    /** A step whose single output may overwrite any of its inputs ({@code inPlace}), or none. */
    public Step(List<Integer> defines, List<Integer> reads, boolean inPlace) {
      this(defines, reads, defines.stream().map(d -> inPlace && defines.size() == 1 ? reads : List.<Integer>of()).toList());
    }
  }

  /**
   * The assignment.
   *
   * @param bufferOf for each value, its buffer
   * @param bufferTypes each buffer's dtype
   * @param bufferElements each buffer's capacity in elements
   * @param peakBytes the bytes of all buffers: what one run's frame allocates
   * @param liveBytesPeak the largest total size of values live at one step
   * @param inPlaceCount how many outputs were written over a dying input
   */
  public record Plan(int[] bufferOf, DType[] bufferTypes, long[] bufferElements, long peakBytes, long liveBytesPeak,
      int inPlaceCount) {
    public int bufferCount() {
      return bufferTypes.length;
    }
  }

  /**
   * The inputs of a {@code Fused} node whose buffer output {@code j} may take over: the CPU kernel
   * writes a full-size result straight into its output while computing the body node that makes it,
   * so the input must be read by no body node after that one (body order) and not be a result itself.
   * Sizes (the output the size of the input and of the node's largest output) are the caller's check.
   * A reduction result takes over nothing (its blocks' partial values are written after the walk).
   */
  public static List<Integer> fusedInPlaceInputs(Operation fused, int j) {
    Subgraph body = fused.subgraphs().get(0);
    List<Operation> nodes = body.graph().operations();
    Output result = body.results().get(j);
    Operation producer = result.op();
    // Body nodes that are not elementwise are Parameters, Consts and reductions.
    if (body.results().indexOf(result) != j || Elementwise.is(producer, Primitive.ADD_N)
        || !producer.def().traits().contains(OpTrait.ELEMENTWISE) || producer.def().traits().contains(OpTrait.VIEW)) {
      return List.of();
    }
    int at = nodes.indexOf(producer);
    List<Integer> ok = new ArrayList<>();
    for (int i = 0; i < body.parameters().size(); i++) {
      Operation param = body.parameters().get(i).op();
      java.util.Set<Operation> viewsOf = new java.util.HashSet<>(List.of(param)); // param and its aliases
      boolean safe = true;
      for (int k = 0; k < nodes.size() && safe; k++) {
        Operation n = nodes.get(k);
        for (Output in : n.inputs()) {
          if (viewsOf.contains(in.op())) {
            if (n.def().traits().contains(OpTrait.VIEW)) {
              viewsOf.add(n);
            } else if (k > at) {
              safe = false;
            }
          }
        }
      }
      for (Output r : body.results()) {
        safe &= !viewsOf.contains(r.op());
      }
      if (safe) {
        ok.add(i);
      }
    }
    return ok;
  }

  /**
   * Where a device keeps the values of a plan: it hands out a block for a value and takes back the
   * block of a value that is dead. The CPU's are typed heap arrays ({@link #plan}); a device with
   * raw memory lays values out by byte offset in one arena ({@link ArenaLayout}).
   */
  public interface Allocator {
    /** A block for {@code v}, not held by any live value. */
    int allocate(Value v);

    /** {@code block}, which held {@code v}, is free from the next step on. */
    void release(int block, Value v);
  }

  /**
   * The liveness walk every device shares.
   *
   * @param blockOf for each value, the block the allocator gave it (or the dying input's it took over)
   * @param liveBytesPeak the largest total size of values live at one step
   * @param inPlaceCount how many outputs were written over a dying input
   */
  public record Assignment(int[] blockOf, long liveBytesPeak, int inPlaceCount) {}

  /** Typed buffers for JVM arrays: the assignment and each buffer's dtype and capacity. */
  public static Plan plan(List<Value> values, List<Step> steps) {
    List<DType> types = new ArrayList<>();
    List<Long> sizes = new ArrayList<>();
    Map<DType, List<Integer>> free = new EnumMap<>(DType.class);
    Assignment a = assign(values, steps, new Allocator() {
      @Override
      public int allocate(Value v) {
        return MemoryPlanner.allocate(v, types, sizes, free);
      }

      @Override
      public void release(int block, Value v) {
        free.computeIfAbsent(types.get(block), d -> new ArrayList<>()).add(block);
      }
    });
    long peak = 0;
    long[] elements = new long[sizes.size()];
    for (int b = 0; b < elements.length; b++) {
      elements[b] = sizes.get(b);
      peak += elements[b] * types.get(b).byteSize();
    }
    return new Plan(a.blockOf(), types.toArray(DType[]::new), elements, peak, a.liveBytesPeak(), a.inPlaceCount());
  }

  /**
   * Walks the steps in order: each defined value gets a block (a dying input's, where the step allows
   * it, else the allocator's); after the step, the blocks of values it read for the last time, and
   * of values it wrote that nothing reads, go back to the allocator. So a step's outputs never share
   * memory with its own inputs, except an output written over an input explicitly.
   */
  public static Assignment assign(List<Value> values, List<Step> steps, Allocator allocator) {
    int nv = values.size();
    int[] lastUse = new int[nv];
    Arrays.fill(lastUse, -1);
    for (int s = 0; s < steps.size(); s++) {
      for (int v : steps.get(s).reads()) {
        lastUse[v] = s;
      }
    }
    int[] bufferOf = new int[nv];
    Arrays.fill(bufferOf, -1);
    long live = 0;
    long livePeak = 0;
    int inPlace = 0;
    for (int s = 0; s < steps.size(); s++) {
      Step step = steps.get(s);
      List<Integer> freeNow = new ArrayList<>();
      List<Integer> reused = new ArrayList<>(); // dying inputs whose buffers outputs take over
      for (int d = 0; d < step.defines().size(); d++) {
        int v = step.defines().get(d);
        Value val = values.get(v);
        int over = -1;
        for (int u : step.mayOverwrite().get(d)) {
          Value in = values.get(u);
          if (lastUse[u] == s && bufferOf[u] >= 0 && !reused.contains(u) && in.dtype() == val.dtype()
              && in.elements() == val.elements()) {
            over = u;
            break;
          }
        }
        if (over >= 0) {
          reused.add(over);
          bufferOf[v] = bufferOf[over];
          inPlace++; // the bytes pass from the dying input to the output
        } else {
          bufferOf[v] = allocator.allocate(val);
          live += val.bytes();
        }
        if (lastUse[v] < 0) {
          freeNow.add(v); // written but never read (a scratch output)
        }
      }
      livePeak = Math.max(livePeak, live);
      for (int v : step.reads()) {
        if (lastUse[v] == s && bufferOf[v] >= 0 && !freeNow.contains(v)) {
          freeNow.add(v);
        }
      }
      for (int v : freeNow) {
        if (!reused.contains(v)) {
          live -= values.get(v).bytes();
          allocator.release(bufferOf[v], values.get(v));
        }
      }
    }
    return new Assignment(bufferOf, livePeak, inPlace);
  }

  /** A free buffer of the dtype: the smallest big enough, else the largest (grown), else a new one. */
  private static int allocate(Value v, List<DType> types, List<Long> sizes, Map<DType, List<Integer>> free) {
    List<Integer> candidates = free.computeIfAbsent(v.dtype(), d -> new ArrayList<>());
    int best = -1;
    int largest = -1;
    for (int i = 0; i < candidates.size(); i++) {
      long cap = sizes.get(candidates.get(i));
      if (cap >= v.elements() && (best < 0 || cap < sizes.get(candidates.get(best)))) {
        best = i;
      }
      if (largest < 0 || cap > sizes.get(candidates.get(largest))) {
        largest = i;
      }
    }
    int pick = best >= 0 ? best : largest;
    if (pick >= 0) {
      int b = candidates.remove(pick);
      sizes.set(b, Math.max(v.elements(), sizes.get(b)));
      return b;
    }
    types.add(v.dtype());
    sizes.add(v.elements());
    return types.size() - 1;
  }
}
