package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random ops inside loop bodies: fresh values each iteration and each run, the stream going on when a
 * new plan compiles the body again, and seeded graphs repeating their values in a fresh Session.
 */
class RandomInBodiesTest {
  /** Graph: row i of a [4,2] loop value gets one draw per iteration, from a loop and from a loop nested in it. */
  private record Model(Graph graph, Output flat, Output nested, Output other) {}

  private static Model build() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output flat = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(4)), v -> List.of(tf.add(v.get(0), tf.constant(1)),
        tf.add(v.get(1), tf.mul(tf.reshape(tf.oneHot(v.get(0), 4), 4, 1), tf.randomUniform(Shape.of(1, 2), 11)))),
        List.of(tf.constant(0), tf.constant(Tensor.of(new float[8], 4, 2)))).get(1);
    Output nested = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(4)), v -> {
      Output draw = tf.whileLoop(u -> tf.less(u.get(0), tf.constant(1)), u -> List.of(tf.add(u.get(0), tf.constant(1)),
          tf.add(u.get(1), tf.randomNormal(Shape.of(1, 2), 13))), List.of(tf.constant(0),
          tf.constant(Tensor.of(new float[2], 1, 2)))).get(1);
      return List.of(tf.add(v.get(0), tf.constant(1)), tf.add(v.get(1), tf.mul(tf.reshape(tf.oneHot(v.get(0), 4), 4,
          1), draw)));
    }, List.of(tf.constant(0), tf.constant(Tensor.of(new float[8], 4, 2)))).get(1);
    Output other = tf.constant(1f);
    return new Model(g, flat, nested, other);
  }

  /** Three runs: two with one plan, the third with a plan of its own (another fetch list). */
  private static List<float[]> runs(Model m, Output value, boolean optimize) {
    List<float[]> out = new ArrayList<>();
    try (Session s = new Session(m.graph(), SessionOptions.builder().optimize(optimize).build())) {
      out.add(s.run(Map.of(), value).get(0).toFloatArray());
      out.add(s.run(Map.of(), value).get(0).toFloatArray());
      out.add(s.run(Map.of(), value, m.other()).get(0).toFloatArray());
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void drawsDifferPerIterationAndRunAndRepeatInAFreshSession(boolean optimize) {
    Model m = build();
    for (Output value : List.of(m.flat(), m.nested())) {
      List<float[]> a = runs(m, value, optimize);
      Set<Float> seen = new HashSet<>();
      for (float[] run : a) {
        for (float v : run) {
          assertTrue(seen.add(v), "a value drawn twice: " + v);
        }
      }
      // another Session of the same graph repeats the same values, plan by plan
      Model fresh = build();
      List<float[]> b = runs(fresh, value == m.flat() ? fresh.flat() : fresh.nested(), optimize);
      for (int i = 0; i < a.size(); i++) {
        assertArrayEquals(a.get(i), b.get(i));
      }
    }
  }
}
