package dev.kiln.cuda;

import dev.kiln.graph.DType;

/** How Kiln's dtypes look in generated CUDA C, and their literals (bit-exact for floats). */
final class CudaTypes {
  private CudaTypes() {}

  /** Narrow dtypes are not placed on the device ({@code CudaKernels} refuses their nodes). */
  static IllegalArgumentException unsupported(DType d) {
    return new IllegalArgumentException("CUDA has no " + d.shortName() + " kernels: nodes on " + d.shortName()
        + " run on the host");
  }

  static String c(DType d) {
    return switch (d) {
      case FLOAT32 -> "float";
      case FLOAT64 -> "double";
      case INT32 -> "int";
      case INT64 -> "long long";
      case BOOL -> "bool";
      default -> throw unsupported(d);
    };
  }

  /** Bytes per element on the device (bool is one byte, as CUDA's bool). */
  static int size(DType d) {
    return switch (d) {
      case FLOAT32, INT32 -> 4;
      case FLOAT64, INT64 -> 8;
      case BOOL -> 1;
      default -> throw unsupported(d);
    };
  }

  /** A literal of type {@code d} with value {@code v}, exact (NaN and infinities included). */
  static String literal(DType d, double v) {
    return switch (d) {
      case FLOAT32 -> "__int_as_float(0x" + Integer.toHexString(Float.floatToRawIntBits((float) v)) + ")";
      case FLOAT64 -> "__longlong_as_double(0x" + Long.toHexString(Double.doubleToRawLongBits(v)) + "LL)";
      case INT32 -> "((int)" + (int) v + ")";
      case INT64 -> "((long long)" + (long) v + "LL)";
      case BOOL -> v != 0 ? "true" : "false";
      default -> throw unsupported(d);
    };
  }

  static String literal(DType d, Object scalar) {
    return switch (scalar) {
      case Float f -> literal(d, f.doubleValue());
      case Double x -> literal(d, x.doubleValue());
      case Integer i -> literal(d, i.doubleValue());
      case Long l -> d == DType.INT64 ? "((long long)" + l + "LL)" : literal(d, l.doubleValue());
      case Boolean b -> literal(d, b ? 1 : 0);
      default -> throw new IllegalArgumentException("not a scalar: " + scalar);
    };
  }

  /** Helpers every generated kernel may use; overloads pick the dtype. */
  static final String PRELUDE = """
      // Kiln generated CUDA C. Helpers shared by every kernel.
      template <typename T> __device__ __forceinline__ bool k_isnan(T a) { return a != a; }
      template <typename T> __device__ __forceinline__ T k_max(T a, T b) { return k_isnan(a) ? a : (k_isnan(b) ? b : (a > b ? a : b)); }
      template <typename T> __device__ __forceinline__ T k_min(T a, T b) { return k_isnan(a) ? a : (k_isnan(b) ? b : (a < b ? a : b)); }
      template <typename T> __device__ __forceinline__ T k_sign(T a) { return k_isnan(a) ? a : (T)((a > (T)0) - (a < (T)0)); }
      template <typename T> __device__ __forceinline__ T k_relu(T a) { return k_isnan(a) ? a : (a > (T)0 ? a : (T)0); }
      template <typename T> __device__ __forceinline__ T k_abs(T a) { return a < (T)0 ? -a : a; }
      __device__ __forceinline__ float k_abs(float a) { return fabsf(a); }
      __device__ __forceinline__ double k_abs(double a) { return fabs(a); }
      __device__ __forceinline__ float k_pow(float a, float b) { return powf(a, b); }
      __device__ __forceinline__ double k_pow(double a, double b) { return pow(a, b); }
      // Integer power by squaring. A negative exponent (an error on the CPU) gives 0 except for bases 1, -1.
      template <typename T> __device__ __forceinline__ T k_pow(T a, T b) {
        if (b < 0) { return a == 1 ? (T)1 : (a == -1 ? ((b & 1) ? (T)-1 : (T)1) : (T)0); }
        T r = 1; while (b) { if (b & 1) r *= a; a *= a; b >>= 1; } return r;
      }
      __device__ __forceinline__ float k_sigmoid(float a) { return 1.0f / (1.0f + expf(-a)); }
      __device__ __forceinline__ double k_sigmoid(double a) { return 1.0 / (1.0 + exp(-a)); }
      __device__ __forceinline__ float k_rsqrt(float a) { return rsqrtf(a); }
      __device__ __forceinline__ double k_rsqrt(double a) { return rsqrt(a); }
      // Float to integer as Java casts: NaN is 0, out of range saturates.
      template <typename I, typename F> __device__ __forceinline__ I k_f2i(F a, I lo, I hi) {
        return k_isnan(a) ? (I)0 : (a <= (F)lo ? lo : (a >= (F)hi ? hi : (I)a));
      }
      // The CPU runtime's random stream (splitmix64 per counter, Box-Muller for normals).
      __device__ __forceinline__ unsigned long long k_mix(unsigned long long z) {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
      }
      __device__ __forceinline__ double k_uniform(unsigned long long seed, unsigned long long i) {
        return (double)(k_mix(seed + (i + 1ULL) * 0x9E3779B97F4A7C15ULL) >> 11) * 0x1.0p-53;
      }
      __device__ __forceinline__ double k_normal(unsigned long long seed, unsigned long long i) {
        double u1 = 1.0 - k_uniform(seed, 2ULL * i);
        double u2 = k_uniform(seed, 2ULL * i + 1ULL);
        return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.141592653589793 * u2);
      }
      """;
}
