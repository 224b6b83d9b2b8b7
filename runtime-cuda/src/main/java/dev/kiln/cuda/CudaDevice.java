package dev.kiln.cuda;

import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.runtime.spi.Device;

/** An opened CUDA GPU, as the Session's device discovery sees it. */
public final class CudaDevice implements Device {
  final CudaContext ctx;

  CudaDevice(CudaContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public DeviceDescription description() {
    return ctx.description;
  }

  @Override
  public boolean hasKernel(Operation op) {
    return hasKernelFor(op);
  }

  /**
   * Whether the CUDA runtime runs {@code op} on the device: state and views always (a variable lives
   * where its readers run), otherwise the generated kernels (see {@link CudaCodegen#supports}).
   */
  public static boolean hasKernelFor(Operation op) {
    String t = op.type();
    if (t.equals("Variable") || t.equals("Const") || CudaPlan.isAssign(op) || op.def().traits().contains(OpTrait.VIEW)) {
      return true;
    }
    return CudaCodegen.supports(op);
  }

  @Override
  public void close() {
    ctx.close();
  }
}
