package dev.kiln.optimizer;

import dev.kiln.graph.DType;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
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
 * <p>The caller (the CPU runtime's plan compiler) describes the schedule as steps over value ids:
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
   * @param inPlace whether the step's single output may overwrite an input that dies here
   */
  public record Step(List<Integer> defines, List<Integer> reads, boolean inPlace) {
    public Step {
      defines = List.copyOf(defines);
      reads = List.copyOf(reads);
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
   * Whether an op may write its output over an input that dies at it: single-output elementwise ops
   * whose kernels read each element before writing the same element. Not Cast (the dtype changes),
   * AddN and Fused (their kernels write the output before they are done reading all inputs), views.
   */
  public static boolean mayWriteInPlace(Operation op) {
    var traits = op.def().traits();
    return traits.contains(OpTrait.ELEMENTWISE) && !traits.contains(OpTrait.VIEW) && !traits.contains(OpTrait.STATEFUL)
        && op.numOutputs() == 1 && switch (op.type()) {
          case "AddN", "Fused", "Cast", "ZerosLike", "OnesLike" -> false;
          default -> true;
        };
  }

  public static Plan plan(List<Value> values, List<Step> steps) {
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
    List<DType> types = new ArrayList<>();
    List<Long> sizes = new ArrayList<>();
    Map<DType, List<Integer>> free = new EnumMap<>(DType.class);
    long live = 0;
    long livePeak = 0;
    int inPlace = 0;
    for (int s = 0; s < steps.size(); s++) {
      Step step = steps.get(s);
      List<Integer> freeNow = new ArrayList<>();
      int reused = -1; // the dying input whose buffer the output takes over
      if (step.inPlace() && step.defines().size() == 1) {
        Value out = values.get(step.defines().get(0));
        for (int v : step.reads()) {
          Value in = values.get(v);
          if (lastUse[v] == s && bufferOf[v] >= 0 && in.dtype() == out.dtype() && in.elements() == out.elements()) {
            reused = v;
            break;
          }
        }
      }
      for (int v : step.defines()) {
        Value val = values.get(v);
        if (reused >= 0) {
          bufferOf[v] = bufferOf[reused];
          inPlace++; // the bytes pass from the dying input to the output
        } else {
          bufferOf[v] = allocate(val, types, sizes, free);
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
        if (v != reused) {
          live -= values.get(v).bytes();
          free.computeIfAbsent(types.get(bufferOf[v]), d -> new ArrayList<>()).add(bufferOf[v]);
        }
      }
    }
    long peak = 0;
    long[] elements = new long[sizes.size()];
    for (int b = 0; b < elements.length; b++) {
      elements[b] = sizes.get(b);
      peak += elements[b] * types.get(b).byteSize();
    }
    return new Plan(bufferOf, types.toArray(DType[]::new), elements, peak, livePeak, inPlace);
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
