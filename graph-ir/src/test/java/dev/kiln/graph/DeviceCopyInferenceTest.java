package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(InferenceSupport.class)
class DeviceCopyInferenceTest {
  @Test
  @Covers({"CopyToDevice", "CopyToHost"})
  void copiesAreIdentitiesOnTheTypeAndViews() {
    Ops tf = InferenceSupport.newOps();
    Graph g = tf.graph();
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(-1, 3));
    Operation up = g.opBuilder("CopyToDevice", "up").addInput(x).setDevice("/gpu:0").build();
    Operation down = g.opBuilder("CopyToHost", "down").addInput(up.output(0)).setDevice("/cpu:0").build();
    assertEquals(new TensorType(DType.FLOAT64, Shape.of(-1, 3)), up.outputType(0));
    assertEquals(new TensorType(DType.FLOAT64, Shape.of(-1, 3)), down.outputType(0));
    assertEquals("/gpu:0", up.device());
    assertTrue(up.def().traits().contains(OpTrait.VIEW));
    assertTrue(down.def().traits().contains(OpTrait.VIEW));
  }
}
