package dev.kiln.cuda;

import jcuda.driver.CUresult;

/** Driver API result checks: a failed call raises an exception naming the call and the CUDA error. */
final class Cu {
  private Cu() {}

  static void check(int result, String call) {
    if (result != CUresult.CUDA_SUCCESS) {
      throw new IllegalStateException("CUDA " + call + " failed: " + CUresult.stringFor(result));
    }
  }
}
