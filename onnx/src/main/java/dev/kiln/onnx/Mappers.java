package dev.kiln.onnx;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The ONNX operator types the importer maps, each to its {@link Mapper}. */
final class Mappers {
  private static final Map<String, Mapper> ALL = build();

  private Mappers() {}

  private static Map<String, Mapper> build() {
    Map<String, Mapper> m = new HashMap<>();
    ElementwiseMappers.register(m);
    TensorMappers.register(m);
    IndexMappers.register(m);
    NnMappers.register(m);
    ReduceMappers.register(m);
    LossMappers.register(m);
    RecurrentMappers.register(m);
    SignalMappers.register(m);
    TrainingMappers.register(m);
    ControlFlowMappers.register(m);
    QuantMappers.register(m);
    return Map.copyOf(m);
  }

  /** The mapper of an operator type, or null when it is not supported. */
  static Mapper get(String opType) {
    return ALL.get(opType);
  }

  static Set<String> supported() {
    return new TreeSet<>(ALL.keySet());
  }
}
