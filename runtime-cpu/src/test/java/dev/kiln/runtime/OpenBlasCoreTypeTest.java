package dev.kiln.runtime;

import dev.kiln.runtime.blas.OpenBlasCoreType;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.runtime.blas.OpenBlasCoreType.Isa;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OpenBlasCoreTypeTest {
  // Flags as /proc/cpuinfo lists them (abridged) on three generations of x86-64 CPUs.
  private static final Set<String> ZEN5 = Set.of("fpu", "sse", "sse2", "ssse3", "sse4_1", "sse4_2", "avx", "fma",
      "avx2", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_bf16");
  private static final Set<String> HASWELL = Set.of("fpu", "sse", "sse2", "ssse3", "sse4_1", "sse4_2", "avx", "fma",
      "avx2");
  private static final Set<String> SANDY_BRIDGE = Set.of("fpu", "sse", "sse2", "ssse3", "sse4_1", "sse4_2", "avx");
  private static final Set<String> NEHALEM = Set.of("fpu", "sse", "sse2", "ssse3", "sse4_1", "sse4_2");

  @Test
  void theCpuLevelIsItsWidestVectorInstructions() {
    assertEquals(Isa.AVX512, OpenBlasCoreType.cpu(ZEN5));
    assertEquals(Isa.AVX2, OpenBlasCoreType.cpu(HASWELL));
    assertEquals(Isa.AVX, OpenBlasCoreType.cpu(SANDY_BRIDGE));
    assertEquals(Isa.SSE, OpenBlasCoreType.cpu(NEHALEM));
    assertEquals(Isa.SSE, OpenBlasCoreType.cpu(Set.of()));
    assertEquals(Isa.AVX, OpenBlasCoreType.cpu(Set.of("avx", "avx2")), "AVX2 kernels also need FMA");
  }

  @Test
  void haswellOnAnAvx512CpuIsWarnedAboutNamingBothAndTheCost() {
    String w = OpenBlasCoreType.slowerThanCpu("Haswell", ZEN5).orElseThrow();
    assertTrue(w.startsWith("OPENBLAS_CORETYPE=Haswell makes OpenBLAS run its AVX2 kernels, but this CPU supports"
        + " AVX-512 (avx512f): matrix products may run slower than it allows (measured with HASWELL: "), w);
    assertTrue(w.contains("(" + OpenBlasCoreType.MEASURED_COST + ")"), w);
    assertTrue(w.endsWith("unset it (env -u OPENBLAS_CORETYPE ...) to let Kiln choose."), w);
  }

  @Test
  void olderCoresThanTheCpuAreWarnedAboutWhateverTheCase() {
    assertTrue(OpenBlasCoreType.slowerThanCpu("SANDYBRIDGE", HASWELL).orElseThrow().contains("its AVX kernels"));
    assertTrue(OpenBlasCoreType.slowerThanCpu("nehalem", SANDY_BRIDGE).orElseThrow().contains("supports AVX (avx)"));
    assertTrue(OpenBlasCoreType.slowerThanCpu(" zen ", ZEN5).isPresent());
  }

  @Test
  void matchingWiderAndUnknownCoresAreNot() {
    assertEquals(Optional.empty(), OpenBlasCoreType.slowerThanCpu("SKYLAKEX", ZEN5));
    assertEquals(Optional.empty(), OpenBlasCoreType.slowerThanCpu("SapphireRapids", ZEN5));
    assertEquals(Optional.empty(), OpenBlasCoreType.slowerThanCpu("HASWELL", HASWELL));
    assertEquals(Optional.empty(), OpenBlasCoreType.slowerThanCpu("ZEN", HASWELL));
    // wider than the CPU: not slower, so not this warning's concern
    assertEquals(Optional.empty(), OpenBlasCoreType.slowerThanCpu("SKYLAKEX", HASWELL));
    assertEquals(Optional.empty(), OpenBlasCoreType.slowerThanCpu("NEHALEM", NEHALEM));
    assertEquals(Optional.empty(), OpenBlasCoreType.slowerThanCpu("NOSUCHCORE", ZEN5));
    assertEquals(Optional.empty(), OpenBlasCoreType.slowerThanCpu("", ZEN5));
  }

  @Test
  void kilnForcesSkylakeXOnlyOnAvx512CpusAndOnlyWhenNothingIsSet() {
    assertEquals(Optional.of("SKYLAKEX"), OpenBlasCoreType.toForce(Optional.empty(), ZEN5));
    assertEquals(Optional.empty(), OpenBlasCoreType.toForce(Optional.of("HASWELL"), ZEN5));
    assertEquals(Optional.empty(), OpenBlasCoreType.toForce(Optional.empty(), HASWELL));
  }
}
