package dev.kiln.runtime.exec;

import java.util.Locale;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/**
 * The runtime's {@code kiln.*} system properties, read once and in this class only (a test keeps it
 * so). Each is an override of a default chosen here or, for the process-wide choices, computed from
 * the machine (which BLAS, whether the Vector API is there). docs/configuration.md lists them all.
 * A value that does not parse is logged as a warning and the default is used.
 *
 * @param blas {@code kiln.blas}: "mkl", "openblas" or "auto" (BlasChoice decides; an unknown value is
 *     warned about there and read as auto)
 * @param blasCopying {@code kiln.blas.copying}: products go through JavaCPP's copying array calls
 *     instead of critical downcalls (which hold off safepoints while they run)
 * @param blasSingleThreadBelow {@code kiln.blas.singleThreadBelow}: products of fewer multiply-adds run
 *     on one OpenBLAS thread (0: never)
 * @param matmulJavaBelow {@code kiln.matmul.javaBelow}: products of at most this many multiply-adds run
 *     as a Java loop; empty: MatMulKernels' default, which depends on how BLAS is called
 * @param parallelMinElements {@code kiln.parallel.minElements}: elements from which an elementwise loop is
 *     split over the cores; empty: Parallel's default, which depends on the BLAS library
 * @param columnSumMinSplit {@code kiln.columnSum.minSplit}: elements from which a column sum is split
 *     over the cores
 * @param vectorDisabled {@code kiln.vector.disable}: behave as if the Vector API were absent
 * @param fusedCodegen {@code kiln.fused.codegen}: fused bodies may compile to generated Vector API loops
 * @param fusedCodegenMinElements {@code kiln.fused.codegenMinElements}: smaller fused iteration spaces
 *     stay interpreted
 * @param fusedHeavyPerLoop {@code kiln.fused.heavyPerLoop}: transcendental ops per generated loop
 * @param fusedBlock {@code kiln.fused.block}: elements per block of the fused interpreter
 * @param fusedGeneratedBlock {@code kiln.fused.generatedBlock}: elements per block of a generated loop
 * @param profile {@code kiln.profile}: the default of {@link SessionOptions#profileKernels()}
 * @param profileSkip {@code kiln.profile.skip}: calls per kernel left out of a profile (warm-up)
 * @param graphReplay {@code kiln.cuda.graphs}: the default of {@link SessionOptions#graphReplay()}
 * @param blasThreads {@code kiln.blas.threads}: who runs OpenBLAS products on several cores: "kiln"
 *     (OpenBLAS on one thread, large products split over Kiln's pool) or "openblas" (OpenBLAS's own
 *     threads; products below blasSingleThreadBelow switch it to one thread around the call)
 * @param blasSplitAbove {@code kiln.blas.splitAbove}: with blasThreads "kiln", products of at least this
 *     many multiply-adds are split over the cores (0: never)
 * @param parallelSpinMicros {@code kiln.parallel.spinMicros}: how long an idle worker of Kiln's pool waits
 *     for the next job spinning before it parks; negative: no pool of Kiln's own (the common ForkJoin pool)
 * @param dnnlDisabled {@code kiln.dnnl.disable}: float32 convolutions run on Kiln's own kernels instead of
 *     oneDNN's
 */
public record RuntimeProperties(String blas, boolean blasCopying, long blasSingleThreadBelow, OptionalLong matmulJavaBelow,
    OptionalInt parallelMinElements, int columnSumMinSplit, boolean vectorDisabled, boolean fusedCodegen,
    int fusedCodegenMinElements, int fusedHeavyPerLoop, int fusedBlock, int fusedGeneratedBlock, boolean profile,
    long profileSkip, boolean graphReplay, String blasThreads, long blasSplitAbove, long parallelSpinMicros,
    boolean dnnlDisabled) {

  private static final Logger LOG = Logger.getLogger(RuntimeProperties.class.getName());

  /** The values of this JVM's system properties. */
  public static final RuntimeProperties SYSTEM = read(System::getProperty);

  /** The values {@code property} (a name to its value, null when unset) gives, defaults for the rest. */
  public static RuntimeProperties read(UnaryOperator<String> property) {
    Reader r = new Reader(property);
    return new RuntimeProperties(
        r.string("kiln.blas", "auto"),
        r.bool("kiln.blas.copying", false),
        r.longValue("kiln.blas.singleThreadBelow", 1L << 22),
        r.optionalLong("kiln.matmul.javaBelow"),
        r.optionalInt("kiln.parallel.minElements"),
        r.intValue("kiln.columnSum.minSplit", 1 << 20),
        r.bool("kiln.vector.disable", false),
        r.bool("kiln.fused.codegen", true),
        r.intValue("kiln.fused.codegenMinElements", 256),
        r.intValue("kiln.fused.heavyPerLoop", 3),
        r.intValue("kiln.fused.block", 1024),
        r.intValue("kiln.fused.generatedBlock", 4096),
        r.bool("kiln.profile", false),
        r.longValue("kiln.profile.skip", 0),
        r.bool("kiln.cuda.graphs", true),
        r.string("kiln.blas.threads", "kiln"),
        r.longValue("kiln.blas.splitAbove", 1L << 22),
        r.longValue("kiln.parallel.spinMicros", 50),
        r.bool("kiln.dnnl.disable", false));
  }

  /** Typed reads of one lookup; a malformed value is warned about and gives the default. */
  private record Reader(UnaryOperator<String> property) {
    String string(String name, String dflt) {
      String v = property.apply(name);
      return v == null ? dflt : v;
    }

    boolean bool(String name, boolean dflt) {
      String v = property.apply(name);
      if (v == null) {
        return dflt;
      }
      return switch (v.trim().toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default -> malformed(name, v, "true or false", dflt);
      };
    }

    int intValue(String name, int dflt) {
      return optionalInt(name).orElse(dflt);
    }

    long longValue(String name, long dflt) {
      return optionalLong(name).orElse(dflt);
    }

    OptionalInt optionalInt(String name) {
      String v = property.apply(name);
      if (v == null) {
        return OptionalInt.empty();
      }
      try {
        return OptionalInt.of(Integer.decode(v.trim()));
      } catch (NumberFormatException e) {
        return malformed(name, v, "an integer", OptionalInt.empty());
      }
    }

    OptionalLong optionalLong(String name) {
      String v = property.apply(name);
      if (v == null) {
        return OptionalLong.empty();
      }
      try {
        return OptionalLong.of(Long.decode(v.trim()));
      } catch (NumberFormatException e) {
        return malformed(name, v, "an integer", OptionalLong.empty());
      }
    }

    private static <T> T malformed(String name, String value, String expected, T dflt) {
      LOG.warning("-D" + name + "=" + value + ": expected " + expected + "; using the default");
      return dflt;
    }
  }
}
