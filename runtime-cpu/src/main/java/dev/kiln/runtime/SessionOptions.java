package dev.kiln.runtime;

/**
 * How a {@link Session} compiles and runs its plans. Immutable; build with {@link #builder()}.
 *
 * <pre>{@code
 * SessionOptions opts = SessionOptions.builder().optimize(false).build();
 * }</pre>
 */
public final class SessionOptions {
  private static final SessionOptions DEFAULTS = builder().build();

  private final boolean optimize;
  private final int framesPerPlan;
  private final java.util.Set<String> disabledPasses;
  private final int maxCachedPlans;
  private final String device;

  private SessionOptions(Builder b) {
    this.optimize = b.optimize;
    this.framesPerPlan = b.framesPerPlan;
    this.disabledPasses = java.util.Set.copyOf(b.disabledPasses);
    this.maxCachedPlans = b.maxCachedPlans;
    this.device = b.device;
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

  @Override
  public String toString() {
    return "SessionOptions(optimize=" + optimize + ", framesPerPlan=" + framesPerPlan
        + ", maxCachedPlans=" + maxCachedPlans + (device.isEmpty() ? "" : ", device=" + device)
        + (disabledPasses.isEmpty() ? "" : ", disabledPasses=" + new java.util.TreeSet<>(disabledPasses)) + ")";
  }

  public static final class Builder {
    private boolean optimize = true;
    private int framesPerPlan = Math.max(2, Runtime.getRuntime().availableProcessors());
    private final java.util.Set<String> disabledPasses = new java.util.LinkedHashSet<>();
    private int maxCachedPlans = 1024;
    private String device = "";

    private Builder() {}

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
      java.util.Objects.requireNonNull(name, "device");
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
