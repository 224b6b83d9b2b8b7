package dev.kiln.runtime.exec;

import dev.kiln.runtime.plan.MemoryPlanner;

import dev.kiln.runtime.kernels.Kernel;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.runtime.plan.VariableState;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A compiled run: a flat array of kernel calls over a frame (an Object[] of storage arrays). A frame
 * holds the plan's reusable buffers, the variables' storage and the constants (bound once), and per
 * run the fed arrays and the fetched tensors. Idle frames wait in a small lock-free pool so that
 * concurrent runs each get their own.
 */
public final class Plan {
  public final Kernel[] kernels;
  public final int[] feedSlots;
  public final int[] resultSlots;
  /** True when the run assigns variables: it then runs alone (the Session's write lock). */
  public final boolean writes;
  public final VariableState[] mustBeInitialized;
  public final VariableState[] written;
  /**
   * True when a library kernel runs after an assign (a control dependency orders it there): such a
   * run saves the variables it writes first, to restore them if a kernel fails.
   */
  public final boolean snapshotWrites;

  private final Object[] template;
  private final int[] bufferSlots;
  private final DType[] bufferTypes;
  private final int[] bufferSizes;
  private final AtomicReferenceArray<Object[]> idle;
  /** The memory plan the buffers come from: its peak bytes are known before anything runs. */
  public final dev.kiln.runtime.plan.MemoryPlanner.Plan memory;
  /**
   * Per fetch, the variable whose storage holds the fetched value at the end of the run and is lent
   * to the caller instead of copied (a plan of {@link PlanKey#lend}), else null (the value is copied
   * into the result slot).
   */
  public final Lent[] lent;

  /** A fetched value lent from a variable's storage, with the fetch's type (a view's may differ). */
  /** For a body plan ({@link PlanCompiler#compileBody}): the concrete types of its results; set once when compiled. */
  java.util.List<dev.kiln.graph.TensorType> resultTypes = java.util.List.of();

  /** For a body plan ({@link PlanCompiler#compileBody}): the concrete types of its results. */
  public java.util.List<dev.kiln.graph.TensorType> resultTypes() {
    return resultTypes;
  }

  public record Lent(VariableState variable, dev.kiln.graph.TensorType type) {}

  Plan(Kernel[] kernels, int[] feedSlots, int[] resultSlots, VariableState[] mustBeInitialized,
      VariableState[] written, boolean snapshotWrites, Object[] template, int[] bufferSlots, DType[] bufferTypes, int[] bufferSizes,
      int poolSize, dev.kiln.runtime.plan.MemoryPlanner.Plan memory, Lent[] lent) {
    this.memory = memory;
    this.lent = lent;
    this.kernels = kernels;
    this.feedSlots = feedSlots;
    this.resultSlots = resultSlots;
    this.writes = written.length > 0;
    this.mustBeInitialized = mustBeInitialized;
    this.written = written;
    this.snapshotWrites = snapshotWrites;
    this.template = template;
    this.bufferSlots = bufferSlots;
    this.bufferTypes = bufferTypes;
    this.bufferSizes = bufferSizes;
    this.idle = new AtomicReferenceArray<>(poolSize);
  }

  public Object[] acquireFrame() {
    for (int i = 0; i < idle.length(); i++) {
      Object[] f = idle.get(i);
      if (f != null && idle.compareAndSet(i, f, null)) {
        return f;
      }
    }
    return newFrame();
  }

  public void releaseFrame(Object[] frame) {
    for (int i = 0; i < idle.length(); i++) {
      if (idle.get(i) == null && idle.compareAndSet(i, null, frame)) {
        return;
      }
    }
  }

  /** Slots holding a While's stacked outputs: each frame gets its own {@link StackBuffer}s. */
  int[] stackSlots = new int[0];
  DType[] stackTypes = new DType[0];

  private Object[] newFrame() {
    Object[] f = template.clone();
    for (int i = 0; i < stackSlots.length; i++) {
      f[stackSlots[i]] = new StackBuffer(stackTypes[i]);
    }
    for (int i = 0; i < bufferSlots.length; i++) {
      f[bufferSlots[i]] = HostBuffers.allocate(bufferTypes[i], bufferSizes[i]);
    }
    return f;
  }

  /** Bytes of buffers one frame holds (for tests and diagnostics). */
  public long frameBytes() {
    long b = 0;
    for (int i = 0; i < bufferSlots.length; i++) {
      b += (long) bufferSizes[i] * bufferTypes[i].byteSize();
    }
    return b;
  }

  /**
   * The true peak: bytes of the buffer arrays a fresh frame of this plan actually allocates (array
   * lengths x element size over the buffer slots; feeds, variables, constants and fetch results are
   * not the plan's buffers).
   */
  public long allocatedFrameBytes() {
    Object[] f = newFrame();
    long b = 0;
    for (int i = 0; i < bufferSlots.length; i++) {
      b += (long) java.lang.reflect.Array.getLength(f[bufferSlots[i]]) * bufferTypes[i].byteSize();
    }
    return b;
  }

  public int bufferCount() {
    return bufferSlots.length;
  }
}
