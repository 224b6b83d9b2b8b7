package dev.kiln.runtime.exec;

import dev.kiln.graph.Shape;
import dev.kiln.runtime.kernels.Kernel;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The rest of a run after a loop whose variables change shape ({@link DynamicLoopKernel}): the steps
 * after it are compiled, once per distinct set of the loop's final shapes, into a plan whose frame
 * extends the run's (its first {@code frameSize} slots are the run's, copied in by reference), and
 * its fetched results are handed back to the run's frame.
 */
final class DynamicTail implements Kernel {
  private static final int MAX_CACHED = 64;

  private final int frameSize;
  private final int[] shapeSlots;
  private final int[] resultSlots;
  private final Function<List<Shape>, Plan> compiler;
  private final Map<List<Shape>, Plan> plans = new ConcurrentHashMap<>();

  DynamicTail(int frameSize, int[] shapeSlots, int[] resultSlots, Function<List<Shape>, Plan> compiler) {
    this.frameSize = frameSize;
    this.shapeSlots = shapeSlots;
    this.resultSlots = resultSlots;
    this.compiler = compiler;
  }

  @Override
  public void run(Object[] frame) {
    Shape[] shapes = new Shape[shapeSlots.length];
    for (int j = 0; j < shapes.length; j++) {
      shapes[j] = (Shape) frame[shapeSlots[j]];
    }
    Plan plan = plan(List.of(shapes));
    Object[] t = plan.acquireFrame();
    try {
      System.arraycopy(frame, 0, t, 0, frameSize);
      for (Kernel k : plan.kernels) {
        k.run(t);
      }
      for (int s : resultSlots) {
        frame[s] = t[s];
      }
    } finally {
      Arrays.fill(t, 0, frameSize, null);
      plan.releaseFrame(t);
    }
  }

  private synchronized Plan plan(List<Shape> shapes) {
    Plan p = plans.get(shapes);
    if (p == null) {
      if (plans.size() >= MAX_CACHED) {
        plans.clear();
      }
      p = compiler.apply(shapes);
      plans.put(shapes, p);
    }
    return p;
  }
}
