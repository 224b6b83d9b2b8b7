package dev.kiln.runtime.exec;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;

/**
 * The storage of one stacked output of a While ({@code ControlFlowOp.NUM_STACKED}): the values its
 * body pushed, one per iteration, in one growable array. A frame keeps its stack from run to run, so
 * once it has grown to a run's trip count, later runs allocate nothing.
 */
public final class StackBuffer {
  private final DType dtype;
  private Object data;
  private int count;
  private int elementSize = -1;

  public StackBuffer(DType dtype) {
    this.dtype = dtype;
    this.data = HostBuffers.allocate(dtype, 0);
  }

  void clear(int elementSize) {
    this.elementSize = elementSize;
    this.count = 0;
  }

  void push(Object value) {
    int capacity = java.lang.reflect.Array.getLength(data);
    if ((long) (count + 1) * elementSize > capacity) {
      long grown = Math.max(16L * elementSize, 2L * capacity);
      Object bigger = HostBuffers.allocate(dtype, Math.toIntExact(Math.max(grown, (long) (count + 1) * elementSize)));
      System.arraycopy(data, 0, bigger, 0, count * elementSize);
      data = bigger;
    }
    System.arraycopy(value, 0, data, count * elementSize, elementSize);
    count++;
  }

  /** Copies element {@code index} into {@code out}; fails naming {@code reader} when out of range. */
  public void read(long index, Object out, int size, Operation reader) {
    if (index < 0 || index >= count || size != elementSize) {
      throw new IllegalArgumentException(reader + ": element " + index + " of a stack of " + count
          + (size != elementSize ? " elements of " + elementSize + " values (reading " + size + ")" : " elements"));
    }
    System.arraycopy(data, (int) (index * elementSize), out, 0, size);
  }

  /** How many values were pushed in the last run. */
  public int size() {
    return count;
  }
}
