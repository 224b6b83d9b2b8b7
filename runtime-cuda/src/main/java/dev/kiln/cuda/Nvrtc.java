package dev.kiln.cuda;

import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;

/** NVRTC through jcuda, when its native library (and libnvrtc.so.12) loads. */
final class Nvrtc {
  private Nvrtc() {}

  private static final class Probe {
    static final boolean LOADS = load();

    private static boolean load() {
      if (CudaProperties.SYSTEM.noNvrtc()) {
        return false;
      }
      try {
        JNvrtc.setExceptionsEnabled(true);
        int[] v = new int[2];
        JNvrtc.nvrtcVersion(v, new int[1]);
        return true;
      } catch (Throwable e) { // UnsatisfiedLinkError without libnvrtc.so.12; jcuda wraps some in its own errors
        return false;
      }
    }
  }

  static boolean available() {
    return Probe.LOADS;
  }

  static String compile(String source, String arch) {
    nvrtcProgram prog = new nvrtcProgram();
    JNvrtc.nvrtcCreateProgram(prog, source, "kiln.cu", 0, null, null);
    try {
      try {
        JNvrtc.nvrtcCompileProgram(prog, 2, new String[] {"--gpu-architecture=" + arch, "--std=c++17"});
      } catch (RuntimeException e) {
        String[] log = new String[1];
        JNvrtc.nvrtcGetProgramLog(prog, log);
        throw new IllegalStateException("NVRTC failed: " + e.getMessage() + "\n" + log[0], e);
      }
      String[] ptx = new String[1];
      JNvrtc.nvrtcGetPTX(prog, ptx);
      return ptx[0];
    } finally {
      JNvrtc.nvrtcDestroyProgram(prog);
    }
  }
}
