package dev.kiln.runtime.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.optimizer.KernelRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DevicesTest {
  private record Provider(Optional<Device> device, String reason, boolean fails) implements DeviceProvider {
    @Override
    public String kind() {
      return "CUDA";
    }

    @Override
    public Optional<Device> open() {
      if (fails) {
        throw new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file");
      }
      return device;
    }

    @Override
    public String unavailableReason() {
      return reason;
    }
  }

  private static final Device GPU = new Device() {
    @Override
    public DeviceDescription description() {
      return DeviceDescription.fakeGpu();
    }

    @Override
    public KernelRegistry kernels() {
      return KernelRegistry.of(Set.of(), Set.of());
    }

    @Override
    public void close() {}
  };

  @Test
  void noDeviceLogsWhyAndRunsOnCpu() {
    List<String> log = new ArrayList<>();
    Optional<Device> d = Devices.discover(List.of(new Provider(Optional.empty(), "no CUDA driver (libcuda.so.1 not found)", false),
        new Provider(Optional.empty(), "", true)), log::add);
    assertTrue(d.isEmpty());
    assertEquals(List.of("no CUDA device: running on CPU (no CUDA driver (libcuda.so.1 not found))",
        "no CUDA device: running on CPU (java.lang.UnsatisfiedLinkError: libcuda.so.1: cannot open shared object file)"), log);
  }

  @Test
  void firstOpenedDeviceWins() {
    List<String> log = new ArrayList<>();
    Optional<Device> d = Devices.discover(List.of(new Provider(Optional.empty(), "none", false),
        new Provider(Optional.of(GPU), "", false)), log::add);
    assertSame(GPU, d.orElseThrow());
    assertEquals(List.of("no CUDA device: running on CPU (none)", "CUDA device: /gpu:0 (fake gpu, 16384 MiB, cc 9.0)"), log);
  }

  @Test
  void withoutProvidersThereIsNoDeviceAndNoLog() {
    List<String> log = new ArrayList<>();
    assertTrue(Devices.discover(List.of(), log::add).isEmpty());
    assertEquals(List.of(), log);
    // This module has no provider on its class path: the Session runs on the CPU.
    assertTrue(Devices.discovered().isEmpty());
  }
}
