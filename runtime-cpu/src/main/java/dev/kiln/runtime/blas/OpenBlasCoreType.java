package dev.kiln.runtime.blas;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * OpenBLAS core types (the values of OPENBLAS_CORETYPE) against the instruction sets a CPU has: which
 * core type Kiln forces on an AVX-512 CPU, and whether a core type set in the environment leaves
 * faster kernels unused.
 */
public final class OpenBlasCoreType {
  private OpenBlasCoreType() {}

  static final String VARIABLE = "OPENBLAS_CORETYPE";
  /** What Kiln sets on an AVX-512 CPU when the environment names no core type. */
  static final String AVX512_CORE = "SKYLAKEX";

  /** The widest vector instructions a core type's kernels (or a CPU) use, in increasing order. */
  public enum Isa {
    SSE("SSE"), AVX("AVX"), AVX2("AVX2"), AVX512("AVX-512");

    private final String label;

    Isa(String label) {
      this.label = label;
    }
  }

  /** OpenBLAS's x86-64 core names (driver/others/dynamic.c), by the instructions their kernels use. */
  private static final Map<String, Isa> CORES = Map.ofEntries(
      Map.entry("SKYLAKEX", Isa.AVX512), Map.entry("COOPERLAKE", Isa.AVX512), Map.entry("SAPPHIRERAPIDS", Isa.AVX512),
      Map.entry("HASWELL", Isa.AVX2), Map.entry("ZEN", Isa.AVX2),
      Map.entry("SANDYBRIDGE", Isa.AVX), Map.entry("BULLDOZER", Isa.AVX), Map.entry("PILEDRIVER", Isa.AVX),
      Map.entry("STEAMROLLER", Isa.AVX), Map.entry("EXCAVATOR", Isa.AVX),
      Map.entry("KATMAI", Isa.SSE), Map.entry("COPPERMINE", Isa.SSE), Map.entry("NORTHWOOD", Isa.SSE),
      Map.entry("PRESCOTT", Isa.SSE), Map.entry("BANIAS", Isa.SSE), Map.entry("ATOM", Isa.SSE),
      Map.entry("CORE2", Isa.SSE), Map.entry("PENRYN", Isa.SSE), Map.entry("DUNNINGTON", Isa.SSE),
      Map.entry("NEHALEM", Isa.SSE), Map.entry("ATHLON", Isa.SSE), Map.entry("OPTERON", Isa.SSE),
      Map.entry("OPTERON_SSE3", Isa.SSE), Map.entry("BARCELONA", Isa.SSE), Map.entry("NANO", Isa.SSE),
      Map.entry("BOBCAT", Isa.SSE));

  /** The instructions of a core type's kernels; empty for a name this table does not know. */
  static Optional<Isa> kernels(String coreType) {
    return Optional.ofNullable(CORES.get(coreType.trim().toUpperCase(Locale.ROOT)));
  }

  /** The widest vector instructions among /proc/cpuinfo flags. */
  public static Isa cpu(Set<String> flags) {
    if (flags.contains("avx512f")) {
      return Isa.AVX512;
    }
    if (flags.contains("avx2") && flags.contains("fma")) {
      return Isa.AVX2;
    }
    return flags.contains("avx") ? Isa.AVX : Isa.SSE;
  }

  /**
   * The core type Kiln sets before OpenBLAS loads: SKYLAKEX on an AVX-512 CPU (OpenBLAS's own detection
   * picks its AVX2 kernels on some of them), nothing when the environment already names one.
   */
  public static Optional<String> toForce(Optional<String> environment, Set<String> flags) {
    return environment.isEmpty() && cpu(flags) == Isa.AVX512 ? Optional.of(AVX512_CORE) : Optional.empty();
  }

  /**
   * The warning for a core type set in the environment whose kernels use narrower instructions than the
   * CPU has, naming both and the cost; empty when it matches the CPU, is wider, or is not a known name.
   */
  public static Optional<String> slowerThanCpu(String coreType, Set<String> flags) {
    Isa cpu = cpu(flags);
    return kernels(coreType).filter(k -> k.compareTo(cpu) < 0).map(k -> String.format(Locale.ROOT,
        "%s=%s makes OpenBLAS run its %s kernels, but this CPU supports %s (%s): matrix products may run"
            + " slower than it allows (%s). Kiln respects the setting; unset it (env -u %s ...) to let Kiln choose.",
        VARIABLE, coreType.trim(), k.label, cpu.label, flagsOf(cpu), MEASURED_COST, VARIABLE));
  }

  /**
   * What older kernels cost, for the warning: up to twice the time where the CPU runs 512-bit FMAs at full
   * width, little where it splits them in halves.
   */
  public static final String MEASURED_COST = "measured with HASWELL: a W2 training step 1.8x slower on one AVX-512"
      + " machine, 17.0 against 9.2 ms; 64x1000x100 products 10% slower on an AMD EPYC Zen 4, whose AVX-512"
      + " units are half width";

  /** The /proc/cpuinfo flags that {@link #cpu} read as this level. */
  private static String flagsOf(Isa cpu) {
    return switch (cpu) {
      case AVX512 -> "avx512f";
      case AVX2 -> "avx2, fma";
      case AVX -> "avx";
      case SSE -> "no avx";
    };
  }
}
