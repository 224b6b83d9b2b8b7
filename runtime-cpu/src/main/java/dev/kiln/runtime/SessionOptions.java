package dev.kiln.runtime;

import dev.kiln.runtime.exec.RuntimeProperties;

/**
 * How a {@link Session} compiles and runs its plans. Immutable; build with {@link #builder()}.
 *
 * <pre>{@code
 * SessionOptions opts = SessionOptions.builder().optimize(false).build();
 * }</pre>
 *
 * <p>Two defaults can be overridden for the whole JVM with system properties: {@code -Dkiln.profile=true}
 * ({@link #profileKernels()}) and {@code -Dkiln.cuda.graphs=false} ({@link #graphReplay()}). The
 * runtime's process-wide settings (which BLAS, kernel thresholds) are listed in docs/configuration.md.
 */
public final class SessionOptions {
  private static final SessionOptions DEFAULTS = builder().build();

  private final boolean optimize;
  private final int framesPerPlan;
  private final java.util.Set<String> disabledPasses;
  private final int maxCachedPlans;
  private final String device;
  private final boolean profileKernels;
  private final boolean graphReplay;
  private final FusedKernelOptions fusedKernels;

  private SessionOptions(Builder b) {
    this.optimize = b.optimize;
    this.framesPerPlan = b.framesPerPlan;
    this.disabledPasses = java.util.Set.copyOf(b.disabledPasses);
    this.maxCachedPlans = b.maxCachedPlans;
    this.device = b.device;
    this.profileKernels = b.profileKernels;
    this.graphReplay = b.graphReplay;
    this.fusedKernels = b.fusedKernels;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Optimization on, the default pool size. */
  public static SessionOptions defaults() {
    return DEFAULTS;
  }

  /** Whether each plan goes through the graph optimizer before it is scheduled (default true). */
  public boolean optimize() {
    return optimize;
  }

  /**
   * How many idle frames (the buffers of one run) a plan keeps for reuse; concurrent runs beyond it
   * allocate a frame of their own.
   */
  public int framesPerPlan() {
    return framesPerPlan;
  }

  /** Passes of the default pipeline ({@code Optimizer.defaultPipeline()}) that plans skip. */
  public java.util.Set<String> disabledPasses() {
    return disabledPasses;
  }

  /**
   * How many compiled plans (one per run signature: fed shapes, fetches, targets) the Session keeps;
   * beyond it the cache is emptied, so that runs with ever-new shapes cannot grow memory without bound.
   */
  public int maxCachedPlans() {
    return maxCachedPlans;
  }

  /**
   * Where runs execute: {@code ""} (the default) on the accelerator device discovery found, else on
   * the CPU; {@code "/cpu:0"} always on the CPU; {@code "/gpu:0"} on the GPU when one was found
   * (else on the CPU, as the default: soft placement never fails for a missing device).
   */
  public String device() {
    return device;
  }

  /**
   * Whether the CPU kernels of this Session's plans are timed, each under a label of its node and
   * types, with the totals printed to stderr at JVM exit, largest first (default off: the timing wraps
   * every kernel call; {@code -Dkiln.profile=true} turns it on for every Session, and
   * {@code -Dkiln.profile.skip=N} leaves each kernel's first N calls out as warm-up).
   */
  public boolean profileKernels() {
    return profileKernels;
  }

  /**
   * Whether a device that can record a whole run and replay it as one launch (CUDA graphs) does so
   * for the plans that allow it (default on: a replayed run costs one launch instead of one per step;
   * {@code -Dkiln.cuda.graphs=false} turns it off for every Session, to compare or to profile steps).
   * No effect on the CPU.
   */
  public boolean graphReplay() {
    return graphReplay;
  }

  /** How this Session's fused elementwise kernels run (see {@link FusedKernelOptions}). */
  public FusedKernelOptions fusedKernels() {
    return fusedKernels;
  }

  /**
   * How fused elementwise kernels (chains the optimizer fuses into one node) run. The defaults are
   * the {@code kiln.fused.*} system properties, or the values below where those are unset;
   * docs/configuration.md gives the measurements behind each.
   *
   * @param generateLoops compile a fused body to a generated Vector API loop (when the Vector API is
   *     present) rather than run it in the block interpreter; default true: a generated loop keeps
   *     intermediates in vector registers instead of storing and reloading each one
   * @param generateMinElements iteration spaces smaller than this stay interpreted; default 256: a loop
   *     this short has no whole vectors, so C2 compiles it late and the Vector API boxes until then
   * @param blockElements elements per block of the interpreter; default 1024: a dozen 4 KiB float
   *     blocks stay in a 32-48 KiB L1 data cache
   * @param generatedBlockElements elements per block of a generated loop; default 4096: its
   *     intermediates live in registers, so a longer block costs no L1 and halves the per-block work
   */
  public record FusedKernelOptions(boolean generateLoops, int generateMinElements, int blockElements,
      int generatedBlockElements) {
    private static final FusedKernelOptions DEFAULTS = new FusedKernelOptions(RuntimeProperties.SYSTEM.fusedCodegen(),
        RuntimeProperties.SYSTEM.fusedCodegenMinElements(), RuntimeProperties.SYSTEM.fusedBlock(),
        RuntimeProperties.SYSTEM.fusedGeneratedBlock());

    public FusedKernelOptions {
      requireAtLeast("generateMinElements", generateMinElements, 0);
      requireAtLeast("blockElements", blockElements, 16);
      requireAtLeast("generatedBlockElements", generatedBlockElements, 16);
    }

    /** The defaults (the {@code kiln.fused.*} properties where set). */
    public static FusedKernelOptions defaults() {
      return DEFAULTS;
    }

    public FusedKernelOptions withGenerateLoops(boolean on) {
      return new FusedKernelOptions(on, generateMinElements, blockElements, generatedBlockElements);
    }

    private static void requireAtLeast(String name, int value, int min) {
      if (value < min) {
        throw new IllegalArgumentException("FusedKernelOptions." + name + " must be at least " + min + ", got " + value);
      }
    }
  }

  @Override
  public String toString() {
    return "SessionOptions(optimize=" + optimize + ", framesPerPlan=" + framesPerPlan
        + ", maxCachedPlans=" + maxCachedPlans + (device.isEmpty() ? "" : ", device=" + device)
        + (profileKernels ? ", profileKernels=true" : "")
        + (fusedKernels.equals(FusedKernelOptions.defaults()) ? "" : ", fusedKernels=" + fusedKernels) + (graphReplay ? "" : ", graphReplay=false")
        + (disabledPasses.isEmpty() ? "" : ", disabledPasses=" + new java.util.TreeSet<>(disabledPasses)) + ")";
  }

  public static final class Builder {
    private boolean optimize = true;
    private int framesPerPlan = Math.max(2, Runtime.getRuntime().availableProcessors());
    private final java.util.Set<String> disabledPasses = new java.util.LinkedHashSet<>();
    private int maxCachedPlans = 1024;
    private String device = "";
    private boolean profileKernels = RuntimeProperties.SYSTEM.profile();
    private boolean graphReplay = RuntimeProperties.SYSTEM.graphReplay();
    private FusedKernelOptions fusedKernels = FusedKernelOptions.defaults();

    private Builder() {}

    /** Times this Session's kernels (see {@link SessionOptions#profileKernels()}). */
    public Builder profileKernels(boolean on) {
      this.profileKernels = on;
      return this;
    }

    /** Replays runs as CUDA graphs where a plan allows (see {@link SessionOptions#graphReplay()}). */
    public Builder graphReplay(boolean on) {
      this.graphReplay = on;
      return this;
    }

    /** How fused elementwise kernels run (see {@link FusedKernelOptions}). */
    public Builder fusedKernels(FusedKernelOptions options) {
      this.fusedKernels = java.util.Objects.requireNonNull(options, "fusedKernels: options is null");
      return this;
    }

    public Builder optimize(boolean on) {
      this.optimize = on;
      return this;
    }

    public Builder framesPerPlan(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("framesPerPlan must be at least 1, got " + n);
      }
      this.framesPerPlan = n;
      return this;
    }

    /** Skips one pass of the optimizer pipeline, e.g. {@code "cse"}; fails naming an unknown pass. */
    public Builder disablePass(String pass) {
      java.util.Objects.requireNonNull(pass, "disablePass: pass is null");
      java.util.List<String> known = dev.kiln.optimizer.Optimizer.passNames();
      if (!known.contains(pass)) {
        throw new IllegalArgumentException("unknown pass '" + pass + "' (known: " + String.join(", ", known) + ")");
      }
      disabledPasses.add(pass);
      return this;
    }

    public Builder maxCachedPlans(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxCachedPlans must be at least 1, got " + n);
      }
      this.maxCachedPlans = n;
      return this;
    }

    /** Where runs execute: {@code "/cpu:0"}, {@code "/gpu:0"} or {@code ""} (see {@link SessionOptions#device()}). */
    public Builder device(String name) {
      java.util.Objects.requireNonNull(name, "device: name is null");
      if (!name.isEmpty() && !name.equals("/cpu:0") && !name.equals("/gpu:0")) {
        throw new IllegalArgumentException("device must be \"/cpu:0\", \"/gpu:0\" or \"\" (any), got \"" + name + "\"");
      }
      this.device = name;
      return this;
    }

    public SessionOptions build() {
      return new SessionOptions(this);
    }
  }
}
