package dev.kiln.graph;

import java.util.EnumSet;
import java.util.List;

/**
 * The op types the placement pass inserts where a value crosses devices: {@code CopyToDevice} (host
 * value to the device named by the node's {@link Operation#device()}) and {@code CopyToHost} (device
 * value back to host memory). Both are identities on the value (same dtype and shape) and VIEW ops, so
 * a CPU plan simply aliases them; a device runtime turns them into transfers.
 */
final class DeviceOps {
  static final List<String> COPY_TYPES = List.of("CopyToDevice", "CopyToHost");

  private DeviceOps() {}

  static void define(List<OpDef> defs) {
    for (String t : COPY_TYPES) {
      defs.add(new OpSpec(t, 1, 1, EnumSet.of(OpTrait.VIEW), c -> List.of(c.input(0))));
    }
  }
}
