package dev.kiln.graph;

/** Properties of an op type that passes and runtimes rely on. */
public enum OpTrait {
  /** Reads or writes session state, or draws random numbers: never folded, merged or duplicated. */
  STATEFUL,
  /** Output element i depends only on input element i (after NumPy broadcasting of the inputs). */
  ELEMENTWISE,
  /** Swapping the two inputs gives the same result. */
  COMMUTATIVE,
  /** The output is a view of input 0's data (same elements in the same order): no kernel work. */
  VIEW
}
