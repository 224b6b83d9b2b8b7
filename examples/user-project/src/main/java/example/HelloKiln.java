package example;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

public class HelloKiln {
  public static void main(String[] args) {
    // Build the graph once: y = relu(x . w + b), and the gradient of sum(y) with respect to x.
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 3));         // any number of rows of 3
    Output w = tf.constant(Tensor.of(new float[] {1, 0, -1, 2, 0.5f, 1}, 3, 2)); // a 3x2 matrix, row-major
    Output b = tf.constant(Tensor.of(new float[] {0.5f, -1}, 2));
    Output y = tf.relu(tf.add(tf.matmul(x, w), b));
    Output dx = tf.gradients(tf.reduceSum(y), x).get(0);

    // Run it: feed two rows from a Java array, fetch y and the gradient.
    Tensor rows = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
    try (Session session = new Session(g)) {
      List<Tensor> out = session.run(Map.of(x, rows), y, dx);
      System.out.println("y     = " + Arrays.toString(out.get(0).toFloatArray()) + " shape " + out.get(0).shape());
      System.out.println("dy/dx = " + Arrays.toString(out.get(1).toFloatArray()));
    }
  }
}
