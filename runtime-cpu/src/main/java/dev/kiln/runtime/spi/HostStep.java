package dev.kiln.runtime.spi;

/**
 * The host's kernel of one node, bound to frame slots ({@link HostRuntime#kernel}). A frame is an
 * array of slots, each holding a storage array ({@code float[]}, {@code double[]}, {@code int[]},
 * {@code long[]} or {@code boolean[]}); the step reads its input slots, never modifying them, and
 * writes every element of its output slots, whose arrays the caller allocated with exactly the
 * output's element count. It allocates nothing and may run concurrently on different frames.
 */
@FunctionalInterface
public interface HostStep {
  void run(Object[] frame);
}
