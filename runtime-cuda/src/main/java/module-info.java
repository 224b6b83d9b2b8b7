/**
 * Kiln's CUDA runtime: a {@code DeviceProvider} that the CPU runtime finds through {@link java.util.ServiceLoader};
 * users reach it only through {@code Session}, so it exports nothing.
 */
module dev.kiln.cuda {
  requires dev.kiln.runtime;
  requires java.logging;
  requires jcuda;
  requires jcublas;

  provides dev.kiln.runtime.spi.DeviceProvider with dev.kiln.cuda.CudaDeviceProvider;
}
