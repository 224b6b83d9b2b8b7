package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** What an OperationBuilder accepts besides inputs and attributes: a device name. */
class OperationBuilderDeviceTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));

  @Test
  void deviceNamesAreChecked() {
    int before = g.size();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("Neg", "n").addInput(x).setDevice("garbage").build());
    assertEquals("Neg 'n': device \"garbage\" is not a device name: use \"/cpu:N\", \"/gpu:N\" or \"\" (any)",
        e.getMessage());
    assertEquals(before, g.size());
    assertEquals("/gpu:1", g.opBuilder("Neg", "m").addInput(x).setDevice("/gpu:1").build().device());
  }

  @Test
  void deviceNamesAreCheckedInText() {
    GraphParseException e = assertThrows(GraphParseException.class, () -> Graph.parse("""
        graph {
          %x = Placeholder() {dtype = f32, shape = [2]}
          %y = Neg(%x) @"/tpu:0"
        }
        """, "dev.kg"));
    assertEquals("dev.kg:3:17: Neg 'y': device \"/tpu:0\" is not a device name: use \"/cpu:N\", \"/gpu:N\" or \"\" (any)",
        e.getMessage());
  }
}
