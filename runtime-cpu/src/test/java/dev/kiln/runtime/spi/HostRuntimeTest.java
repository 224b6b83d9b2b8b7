package dev.kiln.runtime.spi;

import dev.kiln.runtime.CpuHostRuntime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.TensorType;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.SessionOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host runtime as a device runtime sees it: through the SPI package only. */
class HostRuntimeTest {
  private final HostRuntime host = HostRuntime.cpu();

  @Test
  void theCpuRuntimeIsFoundOnceAsAService() {
    assertSame(host, HostRuntime.cpu());
    assertEquals("dev.kiln.runtime.CpuHostRuntime", host.getClass().getName());
  }

  @Test
  void concreteTypesFollowTheOpsInference() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output a = tf.placeholder("a", DType.FLOAT64, Shape.of(-1, 3));
    Output b = tf.placeholder("b", DType.FLOAT64, Shape.of(3, 4));
    Operation mm = tf.withName("mm").matmul(a, b).op();
    TensorType b34 = new TensorType(DType.FLOAT64, Shape.of(3, 4));
    assertEquals(List.of(new TensorType(DType.FLOAT64, Shape.of(5, 4))),
        host.concreteTypes(mm, List.of(new TensorType(DType.FLOAT64, Shape.of(5, 3)), b34)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> host.concreteTypes(mm, List.of(new TensorType(DType.FLOAT64, Shape.of(5, 2)), b34)));
    assertEquals(true, e.getMessage().contains("mm"), e.getMessage());
  }

  @Test
  void aHostKernelBoundToSlotsComputesTheNode() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output a = tf.placeholder("a", DType.FLOAT32, Shape.of(2, 3));
    Output b = tf.placeholder("b", DType.FLOAT32, Shape.of(3));
    Operation add = tf.add(a, b).op();
    HostStep step = host.kernel(add, List.of(a.type(), b.type()), List.of(add.outputType(0)), new int[] {2, 0},
        new int[] {1});
    float[] x = {1, 2, 3, 4, 5, 6};
    float[] y = {10, 20, 30};
    Object[] frame = {y, new float[6], x};
    step.run(frame);
    float[] expected = new float[6];
    for (int i = 0; i < 6; i++) {
      expected[i] = x[i] + y[i % 3];
    }
    assertArrayEquals(expected, (float[]) frame[1]);
    assertArrayEquals(new float[] {10, 20, 30}, y, "inputs are not modified");
  }

  @Test
  void anOpTypeWithNoHostKernelFailsWhenBound() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Operation p = tf.placeholder("p", DType.FLOAT32, Shape.of(2)).op();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> host.kernel(p, List.of(), p.outputTypes(), new int[0], new int[] {0}));
    assertEquals("no CPU kernel for op type 'Placeholder'", e.getMessage());
  }

  @Test
  void theRandomStreamsAreTheOnesASessionDraws() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output u = tf.randomUniform(Shape.of(5), DType.FLOAT64, 42);
    Output n = tf.randomNormal(Shape.of(5), DType.FLOAT64, 7);
    try (Session s = new Session(g, SessionOptions.builder().device("/cpu:0").build())) {
      List<dev.kiln.graph.Tensor> r = s.run(java.util.Map.of(), u, n);
      double[] du = r.get(0).toDoubleArray();
      double[] dn = r.get(1).toDoubleArray();
      for (int i = 0; i < 5; i++) {
        assertEquals(du[i], host.uniform(42, i), 0.0, "uniform " + i);
        assertEquals(dn[i], host.normal(7, i), 0.0, "normal " + i);
      }
    }
  }
}
