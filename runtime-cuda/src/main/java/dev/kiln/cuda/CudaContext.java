package dev.kiln.cuda;

import static dev.kiln.cuda.Cu.check;

import dev.kiln.optimizer.DeviceDescription;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * One CUDA device opened through the driver API: its primary context (shared with cuBLAS), the one
 * stream every run enqueues on, the loaded kernels (PTX by content hash) and, when it loads, cuBLAS.
 */
final class CudaContext implements AutoCloseable {
  final CUdevice device = new CUdevice();
  final CUcontext context = new CUcontext();
  final CUstream stream = new CUstream();
  final DeviceDescription description;
  final PtxCompiler compiler;
  final Gemm gemm;
  final Staging staging = new Staging(this);
  private final ConcurrentHashMap<String, CUfunction> functions = new ConcurrentHashMap<>();
  private final java.util.List<CUmodule> modules = new java.util.concurrent.CopyOnWriteArrayList<>();
  private boolean closed;

  private CudaContext(int ordinal) {
    check(JCudaDriver.cuInit(0), "cuInit");
    check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet");
    byte[] name = new byte[256];
    check(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
    long[] total = new long[1];
    check(JCudaDriver.cuDeviceTotalMem(total, device), "cuDeviceTotalMem");
    int[] major = new int[1];
    int[] minor = new int[1];
    check(JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device), "cuDeviceGetAttribute");
    check(JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device), "cuDeviceGetAttribute");
    int len = 0;
    while (len < name.length && name[len] != 0) {
      len++;
    }
    description = new DeviceDescription("/gpu:" + ordinal, new String(name, 0, len, StandardCharsets.UTF_8), total[0], major[0], minor[0]);
    check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
    makeCurrent();
    // A blocking stream: it orders with the legacy default stream, which synchronous copies use.
    check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
    compiler = new PtxCompiler(PtxCompiler.defaultCacheDir(), "compute_" + major[0] + minor[0]);
    gemm = Gemm.open(this);
  }

  /** Opens device {@code ordinal}; call only when {@link CudaAvailable#isAvailable()}. */
  static CudaContext open(int ordinal) {
    JCudaDriver.setExceptionsEnabled(false);
    return new CudaContext(ordinal);
  }

  /** The driver API works on the calling thread's current context: set it before any call. */
  void makeCurrent() {
    check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
  }

  /** The kernel of a generated source: compiled (or cached) PTX, loaded once per context. */
  CUfunction function(String source) {
    String key = compiler.key(source);
    return functions.computeIfAbsent(key, k -> {
      String ptx = compiler.ptx(source);
      CUmodule module = new CUmodule();
      check(JCudaDriver.cuModuleLoadData(module, ptx), "cuModuleLoadData");
      modules.add(module);
      CUfunction f = new CUfunction();
      check(JCudaDriver.cuModuleGetFunction(f, module, CudaCodegen.ENTRY), "cuModuleGetFunction");
      return f;
    });
  }

  /** Free and total device memory, bytes. */
  long[] memoryInfo() {
    long[] free = new long[1];
    long[] total = new long[1];
    check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
    return new long[] {free[0], total[0]};
  }

  /** Allocates device memory; out of memory raises {@link CudaOutOfMemoryException} naming {@code what}. */
  CUdeviceptr allocate(long bytes, String what) {
    CUdeviceptr p = new CUdeviceptr();
    int r = JCudaDriver.cuMemAlloc(p, Math.max(bytes, 1));
    if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
      long[] info = memoryInfo();
      throw new CudaOutOfMemoryException(what, bytes, info[0], info[1]);
    }
    check(r, "cuMemAlloc(" + bytes + ")");
    return p;
  }

  void free(CUdeviceptr p) {
    if (p != null) {
      check(JCudaDriver.cuMemFree(p), "cuMemFree");
    }
  }

  void synchronize() {
    check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    makeCurrent();
    gemm.close();
    staging.close();
    for (CUmodule m : modules) {
      JCudaDriver.cuModuleUnload(m);
    }
    JCudaDriver.cuStreamDestroy(stream);
    JCudaDriver.cuDevicePrimaryCtxRelease(device);
  }
}
