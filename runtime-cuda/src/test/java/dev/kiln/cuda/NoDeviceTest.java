package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.spi.DeviceProvider;
import dev.kiln.runtime.spi.Devices;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** What a machine without a GPU (or driver) sees: the CPU runs everything, the log says why once. */
class NoDeviceTest {
  private static final String HAS_GPU = "a CUDA device is present: this test covers machines without one";

  @Test
  void theProviderIsFoundThroughServiceLoader() {
    List<String> kinds = new ArrayList<>();
    ServiceLoader.load(DeviceProvider.class).forEach(p -> kinds.add(p.getClass().getName() + ":" + p.kind()));
    assertEquals(List.of("dev.kiln.cuda.CudaDeviceProvider:CUDA"), kinds);
  }

  @Test
  void withoutADeviceDiscoveryLogsWhyAndTheSessionRunsOnCpu() {
    assumeFalse(CudaAvailable.isAvailable(), HAS_GPU);
    List<String> log = new ArrayList<>();
    assertTrue(Devices.discover(ServiceLoader.load(DeviceProvider.class), log::add).isEmpty());
    assertEquals(List.of("no CUDA device: running on CPU (" + CudaAvailable.reason() + ")"), log);
    assertTrue(CudaAvailable.reason().startsWith("no CUDA"), CudaAvailable.reason());

    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output y = tf.square(x);
    try (Session s = new Session(g)) {
      assertTrue(s.device().isEmpty());
      float[] out = (float[]) dev.kiln.graph.HostBuffers.array(s.run(Map.of(x, Tensor.of(new float[] {1, -2, 3}, 3)), y).get(0));
      assertEquals(List.of(1f, 4f, 9f), List.of(out[0], out[1], out[2]));
    }
  }

  @Test
  void aCudaSessionWithoutADeviceSaysWhy() {
    assumeFalse(CudaAvailable.isAvailable(), HAS_GPU);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new CudaSession(new Graph()));
    assertEquals("no CUDA device: " + CudaAvailable.reason(), e.getMessage());
    assertTrue(new CudaDeviceProvider().open().isEmpty());
  }

  @Test
  void aMissingLibraryIsNamedFromJcudasLoadReport() {
    String report = """
        Error while loading native library "JCudaDriver-12.6.0-linux-x86_64"
        Operating system name: Linux
        java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file: No such file or directory
        """;
    assertEquals("libcuda.so.1 not found", CudaAvailable.linkFailure(report));
    assertEquals("something else", CudaAvailable.linkFailure("something else\nmore"));
  }
}
