package dev.kiln.cuda;

import static dev.kiln.cuda.Cu.check;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * Synchronous host-device copies of any size through one bounded pinned buffer per context, chunk by
 * chunk: for constants, variables moved between runs, and plan transfers too large for a plan's own
 * pinned area (jcuda maps pinned memory as one ByteBuffer, so a single buffer stays under 2 GiB).
 * Copies are ordered on the context's stream, so they see all work enqueued before them.
 */
final class Staging implements AutoCloseable {
  /** Bytes of the bounce buffer, allocated on first use. */
  static final int CHUNK = 32 << 20;

  private final CudaContext ctx;
  private Pointer pinned;
  private ByteBuffer buffer;

  Staging(CudaContext ctx) {
    this.ctx = ctx;
  }

  private void ensure() {
    if (pinned == null) {
      Pointer p = new Pointer();
      check(JCudaDriver.cuMemAllocHost(p, CHUNK), "cuMemAllocHost(" + CHUNK + ")");
      pinned = p;
      buffer = p.getByteBuffer(0, CHUNK).order(ByteOrder.nativeOrder());
    }
  }

  /** Copies the first {@code n} elements of a storage array to {@code dst}; returns when done. */
  synchronized void upload(Object array, long n, CUdeviceptr dst) {
    ensure();
    int size = HostArrays.elementSize(array);
    int perChunk = CHUNK / size;
    for (long from = 0; from < n; from += perChunk) {
      int count = (int) Math.min(perChunk, n - from);
      HostArrays.put(array, (int) from, count, buffer, 0);
      check(JCudaDriver.cuMemcpyHtoDAsync(dst.withByteOffset(from * size), pinned, (long) count * size, ctx.stream),
          "cuMemcpyHtoDAsync");
      ctx.synchronize(); // the bounce buffer is refilled next
    }
  }

  /** Copies {@code n} elements from {@code src} into a storage array; returns when done. */
  synchronized void download(CUdeviceptr src, Object array, long n) {
    ensure();
    int size = HostArrays.elementSize(array);
    int perChunk = CHUNK / size;
    for (long from = 0; from < n; from += perChunk) {
      int count = (int) Math.min(perChunk, n - from);
      check(JCudaDriver.cuMemcpyDtoHAsync(pinned, src.withByteOffset(from * size), (long) count * size, ctx.stream),
          "cuMemcpyDtoHAsync");
      ctx.synchronize();
      HostArrays.get(buffer, 0, array, (int) from, count);
    }
  }

  @Override
  public synchronized void close() {
    if (pinned != null) {
      JCudaDriver.cuMemFreeHost(pinned);
      pinned = null;
      buffer = null;
    }
  }
}
