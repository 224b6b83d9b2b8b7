package dev.kiln.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The convolutional layers: variables, shapes, names, and values against plain-Java loops. */
class ConvLayersTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  private static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = r.nextFloat() * 2 - 1;
    }
    return a;
  }

  @Test
  void conv2dLayerComputesAValidConvolutionPlusBias() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 5, 4, 2));
    Conv2D layer = new Conv2D(2, 3, 3).withPadding("VALID");
    Output y = layer.apply(tf, x);
    assertEquals(Shape.of(-1, 3, 2, 3), y.shape());
    assertEquals("conv2d/kernel", layer.kernel().orElseThrow().name());
    assertEquals(Shape.of(3, 3, 2, 3), layer.kernel().orElseThrow().shape());
    float[] xs = random(5 * 4 * 2, 1);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      Tensor b = Tensor.of(new float[] {0.5f, -1f, 2f}, 3);
      s.assignVariables(Map.of(layer.bias().orElseThrow(), b));
      float[] w = s.variableValue(layer.kernel().orElseThrow()).toFloatArray();
      float[] got = s.runner().feed(x, Tensor.of(xs, 1, 5, 4, 2)).fetch(y).run().getFirst().toFloatArray();
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 2; j++) {
          for (int k = 0; k < 3; k++) {
            double want = b.toFloatArray()[k];
            for (int di = 0; di < 3; di++) {
              for (int dj = 0; dj < 3; dj++) {
                for (int c = 0; c < 2; c++) {
                  want += xs[((i + di) * 4 + j + dj) * 2 + c] * w[((di * 3 + dj) * 2 + c) * 3 + k];
                }
              }
            }
            assertEquals(want, got[(i * 2 + j) * 3 + k], 1e-5, "y[" + i + "," + j + "," + k + "]");
          }
        }
      }
    }
  }

  @Test
  void poolingFlattenAndGlobalAveragePooling() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 4, 4, 2));
    Output pooled = new MaxPool2D(2).apply(tf, x);
    Output avg = new AvgPool2D(2).apply(tf, x);
    Output flat = new Flatten().apply(tf, pooled);
    Output gap = new GlobalAveragePooling().apply(tf, x);
    assertEquals(Shape.of(-1, 2, 2, 2), pooled.shape());
    assertEquals(Shape.of(-1, 8), flat.shape());
    assertEquals(Shape.of(-1, 2), gap.shape());
    float[] xs = random(32, 2);
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(x, Tensor.of(xs, 1, 4, 4, 2)), flat, avg, gap);
      float[] f = r.get(0).toFloatArray();
      float[] a = r.get(1).toFloatArray();
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
          for (int c = 0; c < 2; c++) {
            float m = Float.NEGATIVE_INFINITY;
            double sum = 0;
            for (int di = 0; di < 2; di++) {
              for (int dj = 0; dj < 2; dj++) {
                float v = xs[((2 * i + di) * 4 + 2 * j + dj) * 2 + c];
                m = Math.max(m, v);
                sum += v;
              }
            }
            assertEquals(m, f[(i * 2 + j) * 2 + c], "max");
            assertEquals(sum / 4, a[(i * 2 + j) * 2 + c], 1e-6, "avg");
          }
        }
      }
      for (int c = 0; c < 2; c++) {
        double sum = 0;
        for (int p = 0; p < 16; p++) {
          sum += xs[p * 2 + c];
        }
        assertEquals(sum / 16, r.get(2).toFloatArray()[c], 1e-6, "global average");
      }
    }
  }

  @Test
  void depthwiseLayerHasAKernelPerChannel() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 8, 8, 3));
    DepthwiseConv2D layer = new DepthwiseConv2D(3, 3).withMultiplier(2).withStrides(2, 2);
    Output y = layer.apply(tf, x);
    assertEquals(Shape.of(-1, 4, 4, 6), y.shape());
    assertEquals(List.of(Shape.of(3, 3, 3, 2), Shape.of(6)),
        layer.trainableVariables().stream().map(v -> v.shape()).toList());
  }

  @Test
  void badInputsAreNamed() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 8, 8, 3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Conv2D(4, 8, 3).apply(tf, x));
    assertEquals("Conv2D 'conv2d': input 'x' must have shape [?,?,?,4] (NHWC), got [?,8,8,3]", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Conv2D(3, 8, 3).withGroups(2));
    assertEquals("Conv2D: 2 groups must divide both channel counts, got 3 -> 8", e.getMessage());
    Output v = tf.placeholder("v", DType.FLOAT32, Shape.of(-1, -1, 3));
    e = assertThrows(IllegalArgumentException.class, () -> new Flatten().apply(tf, v));
    assertEquals("Flatten: input 'v' needs a batch dimension and known sizes after it, got [?,?,3]", e.getMessage());
  }
}
