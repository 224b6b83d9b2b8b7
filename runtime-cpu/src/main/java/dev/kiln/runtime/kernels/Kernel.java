package dev.kiln.runtime.kernels;

/**
 * The compiled work of one node in one plan. A run's values live in a frame: an array of slots, each
 * holding a storage array (float[], double[], int[], long[], boolean[]). A kernel reads its inputs'
 * slots and writes into its outputs' slots, whose arrays the plan has already allocated with at least
 * the output's element count (kernels write exactly that many elements and never look at
 * {@code array.length}). Kernels allocate nothing on the hot path.
 */
@FunctionalInterface
public interface Kernel {
  void run(Object[] frame);
}
