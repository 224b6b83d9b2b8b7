package dev.kiln.runtime;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/** Finds the kernel library's factory for an op type ({@code Kernels.factory}). */
final class KernelLibrary {
  private static final MethodHandle FACTORY = find();

  private KernelLibrary() {}

  private static MethodHandle find() {
    try {
      Class<?> c = Class.forName("dev.kiln.runtime.Kernels");
      return MethodHandles.lookup().findStatic(c, "factory", MethodType.methodType(KernelFactory.class, String.class));
    } catch (ReflectiveOperationException e) {
      return null;
    }
  }

  static KernelFactory factory(String opType) {
    if (FACTORY == null) {
      throw new UnsupportedOperationException(opType + ": no CPU kernel library on the class path");
    }
    try {
      return (KernelFactory) FACTORY.invokeExact(opType);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
}
