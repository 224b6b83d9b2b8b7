package dev.kiln.optimizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Unknown dimensions followed as symbols: what is provably equal, and what is not. */
class SymbolicShapesTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 4));
  private final Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, 4));
  private final Output w = tf.placeholder("w", DType.FLOAT32, Shape.of(4, 3));

  private SymbolicShapes shapes(Output... fed) {
    Program p = new Program(g, List.of(), List.of(), Set.of(fed));
    return new SymbolicShapes(Values.of(p));
  }

  @Test
  void elementwiseOpsAndScalarsKeepTheShape() {
    Output a = tf.square(tf.neg(x));
    Output b = tf.mul(tf.exp(x), tf.constant(2f));
    Output c = tf.cast(tf.greater(x, tf.constant(0f)), DType.FLOAT32);
    SymbolicShapes s = shapes();
    assertTrue(s.sameShape(a, b));
    assertTrue(s.sameShape(a, c));
    assertTrue(s.sameShape(tf.onesLike(a), x));
    assertFalse(s.sameShape(x, y), "two placeholders' batch sizes are unrelated");
    assertTrue(s.sameShape(tf.softmax(x), x));
  }

  @Test
  void broadcastingTwoUnknownSizesGivesANewSymbol() {
    Output sum = tf.add(x, y); // either batch size may be 1
    SymbolicShapes s = shapes();
    assertFalse(s.sameShape(sum, x));
    assertFalse(s.sameShape(sum, y));
    assertTrue(s.sameShape(sum, tf.relu(sum)));
    // A known size against an unknown one: the known size (the unknown must be it or 1).
    Output rows = tf.placeholder("rows", DType.FLOAT32, Shape.of(5, -1));
    assertArrayEquals(new int[] {5, 4}, s.of(tf.add(rows, tf.constant(new float[] {1, 2, 3, 4}))));
  }

  @Test
  void matMulReductionsAndLayoutOps() {
    Output h = tf.matmul(x, w); // [bx, 3]
    Output ht = tf.matmul(w, x, true, true); // [3, bx]
    SymbolicShapes s = shapes();
    assertTrue(s.sameShape(tf.transpose(ht, 1, 0), h));
    Output rowSums = tf.reduceSum(h, new int[] {1}, false); // [bx]
    Output kept = tf.reduceSum(h, new int[] {-1}, true); // [bx, 1]
    assertTrue(s.sameShape(tf.squeeze(kept, 1), rowSums));
    assertTrue(s.sameShape(tf.expandDims(rowSums, 1), kept));
    assertTrue(s.broadcastsInto(kept, h));
    assertFalse(s.broadcastsInto(h, kept));
    assertTrue(s.sameShape(tf.reduceSumLike(tf.mul(h, tf.constant(3f)), h), h));
    assertTrue(s.broadcastsInto(tf.constant(1f), h), "a scalar broadcasts into anything");
  }

  @Test
  void fedValuesAndUnknownRanksProveNothing() {
    Output n = tf.neg(x);
    SymbolicShapes s = shapes(n);
    assertFalse(s.sameShape(n, x), "a feed may have any compatible shape");
    assertTrue(s.sameShape(tf.abs(n), n));
    Output any = tf.placeholder("any", DType.FLOAT32, Shape.unknown());
    assertNull(s.of(tf.neg(any)));
    assertFalse(s.sameShape(any, any));
    assertFalse(s.broadcastsInto(any, x));
  }
}
