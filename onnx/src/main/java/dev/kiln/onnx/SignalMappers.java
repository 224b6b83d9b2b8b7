package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Tensor;
import java.util.Map;
import java.util.function.BiFunction;

/** Window functions (constant for a constant size), computed at import in double precision. */
final class SignalMappers {
  private SignalMappers() {}

  static void register(Map<String, Mapper> m) {
    window(m, "HannWindow", (k, n) -> 0.5 - 0.5 * Math.cos(2 * Math.PI * k / n));
    window(m, "HammingWindow", (k, n) -> 25.0 / 46 - (1 - 25.0 / 46) * Math.cos(2 * Math.PI * k / n));
    window(m, "BlackmanWindow", (k, n) -> 0.42 - 0.5 * Math.cos(2 * Math.PI * k / n) + 0.08 * Math.cos(4 * Math.PI * k / n));
  }

  private static void window(Map<String, Mapper> m, String type, BiFunction<Double, Double, Double> f) {
    m.put(type, n -> {
      int size = Math.toIntExact(Node.longs(n.requireConst(0, "size"))[0]);
      boolean periodic = n.attrInt("periodic", 1) != 0;
      double denom = periodic ? size : size - 1;
      double[] v = new double[size];
      for (int k = 0; k < size; k++) {
        v[k] = f.apply((double) k, denom);
      }
      DType d = Tensors.dtype((int) n.attrInt("output_datatype", 1), n.label() + " output_datatype");
      n.out(n.ops.cast(n.ops.constant(Tensor.of(v, size)), d));
    });
  }
}
