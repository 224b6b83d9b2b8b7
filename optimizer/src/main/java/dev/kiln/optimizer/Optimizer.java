package dev.kiln.optimizer;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The passes by name and the default pipeline: what {@code --passes=} and a Session's optimizer use.
 * Add a pass here with one line in {@link #knownPasses} (and in {@link #defaultPipeline} if the
 * Session should run it).
 */
public final class Optimizer {
  private Optimizer() {}

  /**
   * Every pass, by name, in pipeline order; {@code evaluator} computes what {@code fold} folds, and
   * {@code kernels} (the host's) says what {@code fuse} fuses.
   */
  public static Map<String, Pass> knownPasses(ConstantEvaluator evaluator, KernelRegistry kernels) {
    Map<String, Pass> m = new LinkedHashMap<>();
    m.put("prune", new Prune());
    m.put("fold", new ConstantFold(evaluator));
    m.put("cse", new CommonSubexpressionElimination());
    m.put("loops", new LoopOptimizer());
    m.put("simplify", new AlgebraicSimplify());
    m.put("fuse_matmul_update", new FuseMatMulUpdate());
    m.put("fuse_matmul", new FuseMatMulEpilogue());
    m.put("fuse_conv", FuseMatMulEpilogue.convolutions());
    m.put("fuse", new FuseElementwise(kernels));
    return m;
  }

  /** The passes a Session runs on every plan, in order. */
  public static List<String> defaultPipeline() {
    return List.of("prune", "fold", "cse", "loops", "simplify", "fuse_matmul_update", "fuse_matmul", "fuse_conv", "fuse");
  }

  /** The name of every pass, in pipeline order. */
  public static List<String> passNames() {
    return List.copyOf(knownPasses(ConstantEvaluator.none(), KernelRegistry.of(Set.of(), Set.of())).keySet());
  }

  /** The default pipeline without the passes named in {@code disabled}; fails naming an unknown one. */
  public static PassManager defaultPipeline(ConstantEvaluator evaluator, KernelRegistry kernels,
      Collection<String> disabled) {
    Map<String, Pass> known = knownPasses(evaluator, kernels);
    for (String d : disabled) {
      if (!known.containsKey(d)) {
        throw new IllegalArgumentException("unknown pass '" + d + "' (known: " + String.join(", ", known.keySet()) + ")");
      }
    }
    return PassManager.of(defaultPipeline().stream().filter(n -> !disabled.contains(n)).toList(), known);
  }
}
