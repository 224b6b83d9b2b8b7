package dev.kiln.cuda;

/**
 * The device has too little free memory for a plan (or a variable). Nothing was half-allocated: the
 * Session stays usable, e.g. with a smaller batch.
 */
public final class CudaOutOfMemoryException extends RuntimeException {
  private final long neededBytes;
  private final long freeBytes;
  private final long totalBytes;

  CudaOutOfMemoryException(String what, long neededBytes, long freeBytes, long totalBytes) {
    super("CUDA out of memory: " + what + " needs " + neededBytes + " bytes of device memory, the device has "
        + freeBytes + " bytes free (of " + totalBytes + ")");
    this.neededBytes = neededBytes;
    this.freeBytes = freeBytes;
    this.totalBytes = totalBytes;
  }

  public long neededBytes() {
    return neededBytes;
  }

  public long freeBytes() {
    return freeBytes;
  }

  /** The device's total memory, as the driver reported it with the free bytes. */
  public long totalBytes() {
    return totalBytes;
  }
}
