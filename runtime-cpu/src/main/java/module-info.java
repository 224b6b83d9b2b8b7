/**
 * Kiln's CPU runtime: {@code Session}, {@code SessionOptions}, {@code Result} and the kernels behind them,
 * and the SPI through which an accelerator module plugs in.
 */
module dev.kiln.runtime {
  requires transitive dev.kiln.optimizer;
  requires com.google.common;
  requires java.logging;
  requires org.bytedeco.javacpp;
  requires org.bytedeco.openblas;
  requires org.bytedeco.dnnl;
  requires org.bytedeco.systems;
  requires org.objectweb.asm;
  // Optional at run time: without the module the fused kernels run as plain Java loops (VectorSupport
  // checks for it). FusedCodegen's hidden classes are defined in dev.kiln.runtime.fused and so read the
  // module through this one when it is present.
  requires static jdk.incubator.vector;
  // MKL (runtime-cpu-mkl) is found by name through Class.forName when present; no compile-time reference.

  // Exported: the user API (Session, SessionOptions, Result, CpuKernels, GradientChecker, HostKernel)
  // and the device SPI. Inside: exec (plan compilation and execution, the kiln.* properties), kernels
  // (the CPU kernel library), fused (fused-kernel interpretation and Vector API code generation) and
  // blas (the OpenBLAS/MKL binding).
  exports dev.kiln.runtime;
  exports dev.kiln.runtime.spi;
  // The device-neutral plan layer (run order, memory plan, variable state, feed checks, plan key),
  // shared by the CPU's plans and a device runtime's.
  exports dev.kiln.runtime.plan to dev.kiln.cuda;

  uses dev.kiln.runtime.spi.DeviceProvider;
  uses dev.kiln.runtime.spi.HostRuntime;
  provides dev.kiln.runtime.spi.HostRuntime with dev.kiln.runtime.CpuHostRuntime;
}
