package dev.kiln.graph;

import java.util.List;

/**
 * A user op type for tests, written as user ops were before attribute schemas: it declares none, so
 * it takes any attributes, unchecked. It takes any inputs and has no outputs; tests hang attributes
 * of every kind on it.
 */
final class AnnotatedOp {
  static final String TYPE = "Annotated";

  private AnnotatedOp() {}

  static synchronized void register() {
    if (OpRegistry.find(TYPE).isPresent()) {
      return;
    }
    OpRegistry.register(new OpDef() {
      @Override
      public String type() {
        return TYPE;
      }

      @Override
      public int minInputs() {
        return 0;
      }

      @Override
      public int maxInputs() {
        return Integer.MAX_VALUE;
      }

      @Override
      public List<TensorType> infer(OpContext c) {
        return List.of();
      }
    });
  }
}
