package dev.kiln.cuda;

import dev.kiln.graph.DType;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import jcuda.driver.CUdeviceptr;

/**
 * cuBLAS called directly through java.lang.foreign (JDK 22+), whatever its major version: jcublas
 * 12.6's natives need {@code libcublas.so.12}'s versioned symbols, so on a CUDA 13 machine they do
 * not load, while the C API Kiln uses (handle, stream, workspace, sgemm/dgemm) is the same in 12 and
 * 13. The library is opened by name ({@code libcublas.so.13}, {@code .so.12}, {@code .so}: the
 * loader's search path), else from the CUDA install's folders; {@code -Dkiln.cuda.cublas=PATH}
 * names it. The code compiles for Java 21, so java.lang.foreign is reached reflectively; calls are
 * critical downcalls (alpha and beta are passed as Java arrays, read by cuBLAS during the call).
 */
final class CublasFfm implements AutoCloseable {
  private static final String PKG = "java.lang.foreign.";
  private static final int OP_N = 0;
  private static final int OP_T = 1;
  /** Workspace given to cuBLAS up front, so that it never allocates during a CUDA-graph capture. */
  private static final long WORKSPACE = 32L << 20;
  private static final float[] ONE_F = {1f};
  private static final float[] ZERO_F = {0f};
  private static final double[] ONE_D = {1};
  private static final double[] ZERO_D = {0};

  private final CudaContext ctx;
  private final String library;
  private final MethodHandle sgemm;
  private final MethodHandle dgemm;
  private final MethodHandle destroy;
  private final long handle;
  private final CUdeviceptr workspace;
  private final int version;

  private CublasFfm(CudaContext ctx, String library, Object lookup) throws Throwable {
    this.ctx = ctx;
    this.library = library;
    MethodHandle create = bind(lookup, "cublasCreate_v2", MethodType.methodType(int.class, long[].class));
    MethodHandle setStream = bind(lookup, "cublasSetStream_v2", MethodType.methodType(int.class, long.class, long.class));
    MethodHandle setWorkspace = bind(lookup, "cublasSetWorkspace_v2",
        MethodType.methodType(int.class, long.class, long.class, long.class));
    MethodHandle getVersion = bind(lookup, "cublasGetVersion_v2", MethodType.methodType(int.class, long.class, int[].class));
    sgemm = bind(lookup, "cublasSgemm_v2", gemmType(float[].class));
    dgemm = bind(lookup, "cublasDgemm_v2", gemmType(double[].class));
    destroy = bind(lookup, "cublasDestroy_v2", MethodType.methodType(int.class, long.class));
    long[] h = new long[1];
    status((int) create.invokeExact(h), "cublasCreate_v2");
    handle = h[0];
    CUdeviceptr ws = null;
    try {
      status((int) setStream.invokeExact(handle, NativeAddress.of(ctx.stream)), "cublasSetStream_v2");
      ws = ctx.allocate(WORKSPACE, "cuBLAS workspace");
      status((int) setWorkspace.invokeExact(handle, NativeAddress.of(ws), WORKSPACE), "cublasSetWorkspace_v2");
      int[] v = new int[1];
      status((int) getVersion.invokeExact(handle, v), "cublasGetVersion_v2");
      version = v[0];
    } catch (Throwable e) {
      int ignored = (int) destroy.invokeExact(handle);
      ctx.free(ws);
      throw e;
    }
    workspace = ws;
  }

  private static MethodType gemmType(Class<?> scalar) {
    return MethodType.methodType(int.class, long.class, int.class, int.class, int.class, int.class, int.class, scalar,
        long.class, int.class, long.class, int.class, scalar, long.class, int.class);
  }

  /** Opens cuBLAS on the context's stream, or says why not (no JDK 22+, no library, a failed call). */
  static CublasFfm open(CudaContext ctx, List<String> whyNot) {
    if (Runtime.version().feature() < 22) {
      whyNot.add("java.lang.foreign needs JDK 22+ (running " + Runtime.version().feature() + ")");
      return null;
    }
    for (String candidate : candidates()) {
      Object lookup;
      try {
        lookup = candidate.startsWith("/") ? libraryLookup(Path.of(candidate)) : libraryLookup(candidate);
      } catch (Throwable e) {
        continue; // not there under that name
      }
      try {
        return new CublasFfm(ctx, candidate, lookup);
      } catch (Throwable e) {
        whyNot.add(candidate + ": " + e.getMessage());
        return null;
      }
    }
    whyNot.add("no libcublas found (tried " + String.join(", ", candidates()) + ")");
    return null;
  }

  /** Names for the loader's search path first, then files in the CUDA install's library folders. */
  static List<String> candidates() {
    List<String> c = new ArrayList<>();
    Optional<String> forced = CudaProperties.SYSTEM.cublas();
    if (forced.isPresent()) {
      c.add(Path.of(forced.get()).toAbsolutePath().toString());
      return c;
    }
    c.addAll(List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so"));
    List<Path> dirs = new ArrayList<>();
    for (String env : List.of("CUDA_HOME", "CUDA_PATH")) {
      Optional.ofNullable(System.getenv(env)).ifPresent(h -> dirs.add(Path.of(h, "lib64")));
    }
    dirs.add(Path.of("/usr/local/cuda/lib64"));
    dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
    for (Path dir : dirs) {
      for (String name : List.of("libcublas.so.13", "libcublas.so.12")) {
        Path p = dir.resolve(name);
        if (Files.exists(p)) {
          c.add(p.toString());
        }
      }
    }
    return c;
  }

  String library() {
    return library;
  }

  /** cuBLAS's version as it reports it, e.g. 130100 for 13.1.0. */
  int version() {
    return version;
  }

  /**
   * C[m,n] = alpha op(A) op(B) + beta C, all row-major, as a step with its addresses resolved now.
   * cuBLAS is column-major: a row-major matrix is its transpose in column-major, so
   * C^T = op(B)^T op(A)^T is computed with the operands swapped.
   */
  Runnable gemm(DType d, boolean ta, boolean tb, int m, int n, int k, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c,
      double alpha, double beta) {
    float[] alphaF = alpha == 1 ? ONE_F : new float[] {(float) alpha};
    float[] betaF = beta == 0 ? ZERO_F : new float[] {(float) beta};
    double[] alphaD = alpha == 1 ? ONE_D : new double[] {alpha};
    double[] betaD = beta == 0 ? ZERO_D : new double[] {beta};
    int opA = ta ? OP_T : OP_N;
    int opB = tb ? OP_T : OP_N;
    int lda = ta ? m : k;
    int ldb = tb ? k : n;
    long pa = NativeAddress.of(a);
    long pb = NativeAddress.of(b);
    long pc = NativeAddress.of(c);
    long h = handle;
    if (d == DType.FLOAT32) {
      return () -> {
        try {
          status((int) sgemm.invokeExact(h, opB, opA, n, m, k, alphaF, pb, ldb, pa, lda, betaF, pc, n), "cublasSgemm_v2");
        } catch (Throwable e) {
          throw rethrow(e);
        }
      };
    }
    return () -> {
      try {
        status((int) dgemm.invokeExact(h, opB, opA, n, m, k, alphaD, pb, ldb, pa, lda, betaD, pc, n), "cublasDgemm_v2");
      } catch (Throwable e) {
        throw rethrow(e);
      }
    };
  }

  @Override
  public void close() {
    try {
      int ignored = (int) destroy.invokeExact(handle);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    ctx.free(workspace);
  }

  private static void status(int s, String call) {
    if (s != 0) {
      throw new IllegalStateException("cuBLAS " + call + " failed: status " + s + " (" + statusName(s) + ")");
    }
  }

  private static String statusName(int s) {
    return switch (s) {
      case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
      case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
      case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
      case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
      case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
      case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
      case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
      case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
      default -> "see cublas_api.h";
    };
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }

  // ------------------------------------------------------------------ java.lang.foreign, reflectively

  private static Class<?> type(String name) throws ClassNotFoundException {
    return Class.forName(PKG + name);
  }

  private static Object globalArena() throws ReflectiveOperationException {
    return type("Arena").getMethod("global").invoke(null);
  }

  private static Object libraryLookup(String name) throws Throwable {
    return invokeStatic(type("SymbolLookup").getMethod("libraryLookup", String.class, type("Arena")), name, globalArena());
  }

  private static Object libraryLookup(Path file) throws Throwable {
    return invokeStatic(type("SymbolLookup").getMethod("libraryLookup", Path.class, type("Arena")), file, globalArena());
  }

  private static Object invokeStatic(java.lang.reflect.Method m, Object... args) throws Throwable {
    try {
      return m.invoke(null, args);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /**
   * A critical downcall handle of exactly {@code javaType}: int, long, float, double map to their C
   * types, long is also how addresses travel, and primitive arrays are passed as heap segments.
   */
  private static MethodHandle bind(Object lookup, String name, MethodType javaType) throws Throwable {
    Class<?> segment = type("MemorySegment");
    Optional<?> found = (Optional<?>) type("SymbolLookup").getMethod("find", String.class).invoke(lookup, name);
    Object symbol = found.orElseThrow(() -> new NoSuchMethodException("native symbol " + name));
    Class<?> layoutType = type("MemoryLayout");
    Object layouts = Array.newInstance(layoutType, javaType.parameterCount());
    for (int i = 0; i < javaType.parameterCount(); i++) {
      Array.set(layouts, i, layoutOf(javaType.parameterType(i)));
    }
    Class<?> fdType = type("FunctionDescriptor");
    Object fd = fdType.getMethod("of", layoutType, layouts.getClass()).invoke(null, layoutOf(javaType.returnType()), layouts);
    Class<?> optionType = type("Linker$Option");
    Object options = Array.newInstance(optionType, 1);
    Array.set(options, 0, optionType.getMethod("critical", boolean.class).invoke(null, true));
    Object linker = type("Linker").getMethod("nativeLinker").invoke(null);
    MethodHandle h = (MethodHandle) type("Linker").getMethod("downcallHandle", segment, fdType, options.getClass())
        .invoke(linker, symbol, fd, options);
    for (int i = 0; i < javaType.parameterCount(); i++) {
      Class<?> p = javaType.parameterType(i);
      if (p.isArray()) {
        MethodHandle ofArray = MethodHandles.publicLookup().findStatic(segment, "ofArray", MethodType.methodType(segment, p));
        h = MethodHandles.filterArguments(h, i, ofArray);
      }
    }
    return h.asType(javaType);
  }

  private static Object layoutOf(Class<?> p) throws ReflectiveOperationException {
    String name = p == int.class ? "JAVA_INT" : p == long.class ? "JAVA_LONG" : p == float.class ? "JAVA_FLOAT"
        : p == double.class ? "JAVA_DOUBLE" : "ADDRESS";
    return type("ValueLayout").getField(name).get(null);
  }
}
