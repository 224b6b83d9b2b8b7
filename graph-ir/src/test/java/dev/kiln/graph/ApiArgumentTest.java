package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Null arguments and out-of-range indexes to the public API get Kiln's own messages, naming the
 * method and parameter (or the index and size), never a JVM-generated exception; the graph is left as
 * it was.
 */
class ApiArgumentTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 3));

  private void assertNull(String message, Executable body) {
    int before = g.size();
    NullPointerException e = assertThrows(NullPointerException.class, body);
    assertEquals(message, e.getMessage());
    assertEquals(before, g.size(), "a failed call must leave the graph unchanged");
  }

  @Test
  void tensorElementIndexesAreChecked() {
    Tensor t = Tensor.of(new float[] {1, 2, 3}, 3);
    IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> t.getDouble(3));
    assertEquals("getDouble: index 3 is out of range for f32[3] (3 elements)", e.getMessage());
    e = assertThrows(IndexOutOfBoundsException.class, () -> t.getDouble(-1));
    assertEquals("getDouble: index -1 is out of range for f32[3] (3 elements)", e.getMessage());
    Tensor b = Tensor.of(new boolean[] {true, false}, 2);
    e = assertThrows(IndexOutOfBoundsException.class, () -> b.getDouble(2));
    assertEquals("getDouble: index 2 is out of range for bool[2] (2 elements)", e.getMessage());
    Tensor empty = Tensor.of(new long[0], 0, 4);
    e = assertThrows(IndexOutOfBoundsException.class, () -> empty.getDouble(0));
    assertEquals("getDouble: index 0 is out of range for i64[0,4] (0 elements)", e.getMessage());
    assertEquals(3.0, t.getDouble(2));
  }

  @Test
  void operationInputIndexesAreChecked() {
    Operation neg = tf.neg(x).op();
    IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> neg.input(1));
    assertEquals("Neg 'Neg' has no input 1 (it has 1)", e.getMessage());
    e = assertThrows(IndexOutOfBoundsException.class, () -> neg.input(-1));
    assertEquals("Neg 'Neg' has no input -1 (it has 1)", e.getMessage());
    assertEquals(x, neg.input(0));
  }

  @Test
  void tensorFactoriesNameTheNullArgument() {
    assertNull("Tensor.of: data is null", () -> Tensor.of((float[]) null));
    assertNull("Tensor.of: data is null", () -> Tensor.of((double[]) null, 2));
    assertNull("Tensor.of: data is null", () -> Tensor.of((int[]) null));
    assertNull("Tensor.of: data is null", () -> Tensor.of((long[]) null));
    assertNull("Tensor.of: data is null", () -> Tensor.of((boolean[]) null));
    assertNull("Tensor.of: dims is null", () -> Tensor.of(new float[1], (int[]) null));
    assertNull("Tensor.zeros: dtype is null", () -> Tensor.zeros(null, Shape.scalar()));
    assertNull("Tensor.zeros: shape is null", () -> Tensor.zeros(DType.FLOAT32, null));
    assertNull("HostBuffers.adopt: dtype is null", () -> HostBuffers.adopt(null, Shape.scalar(), new float[1]));
    assertNull("HostBuffers.allocate: dtype is null", () -> HostBuffers.allocate(null, 1));
    assertNull("HostBuffers.array: tensor is null", () -> HostBuffers.array(null));
  }

  @Test
  void shapeMethodsNameTheNullArgumentAndCheckIndexes() {
    assertNull("Shape.of: dims is null", () -> Shape.of((int[]) null));
    assertNull("isCompatibleWith: other shape is null", () -> Shape.of(2).isCompatibleWith(null));
    assertNull("mergeWith: other shape is null", () -> Shape.of(2).mergeWith(null));
    assertNull("Shape.broadcast: shape b is null", () -> Shape.broadcast(Shape.of(2), null));
    assertNull("Shape.broadcast: shape a is null", () -> Shape.broadcast(null, Shape.of(2)));
    IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> Shape.of(2, 3).withDim(2, 5));
    assertEquals("dimension 2 out of range for shape [2,3]", e.getMessage());
    assertEquals(Shape.of(2, 5), Shape.of(2, 3).withDim(-1, 5));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Shape.of(2, 3).withDim(0, -4));
    assertEquals("dimension 0 of shape [-4,3] is -4: a dimension is a size >= 0 or -1 for unknown", bad.getMessage());
  }

  @Test
  void namesAreNeverNull() {
    Output one = tf.constant(1f);
    assertNull("placeholder: name is null", () -> tf.placeholder(null, DType.FLOAT32, Shape.scalar()));
    assertNull("variable: name is null", () -> tf.variable(null, one));
    assertNull("withName: name is null", () -> tf.withName(null));
    assertNull("withSubScope: name is null", () -> tf.withSubScope(null));
    assertNull("withDevice: device is null", () -> tf.withDevice(null));
    assertNull("Graph.opBuilder: type is null", () -> g.opBuilder(null, "n"));
    assertNull("opBuilder: type is null", () -> tf.opBuilder(null));
    assertNull("Graph.operation: name is null", () -> g.operation(null));
    assertNull("Graph.findOperation: name is null", () -> g.findOperation(null));
    assertNull("Graph.output: name is null", () -> g.output(null));
    assertEquals(List.of("x", "Const"), g.operations().stream().map(Operation::name).toList());
  }

  @Test
  void graphEntryPointsNameTheNullArgument() {
    assertNull("Graph.parse: text is null", () -> Graph.parse((String) null));
    assertNull("Graph.parse: text is null", () -> Graph.parse(null, "f.kiln"));
    assertNull("Graph.parse: fileName is null", () -> Graph.parse("graph {}", null));
    assertNull("Graph.parse: file is null", () -> Graph.parse((java.nio.file.Path) null));
    assertNull("atomically: body is null", () -> g.atomically(null));
    assertNull("contains: operation is null", () -> g.contains(null));
    assertNull("Ops.create: graph is null", () -> Ops.create(null));
  }

  @Test
  void opsNameTheNullArgument() {
    Output sum = tf.reduceSum(x);
    assertNull("gradients: x 0 is null", () -> tf.gradients(sum, (Output) null));
    assertNull("gradients: xs is null", () -> tf.gradients(sum, (Output[]) null));
    assertNull("gradients: y is null", () -> tf.gradients((Output) null, x));
    assertNull("gradients: ys is null", () -> tf.gradients((List<Output>) null, List.of(x)));
    assertNull("gradients: y 0 is null", () -> tf.gradients(Arrays.asList((Output) null), List.of(x)));
    assertNull("gradients: gradYs is null", () -> tf.gradients(List.of(x), List.of(x), null));
    assertNull("reduceSum: x is null", () -> tf.reduceSum(null));
    assertNull("reduceSum: axes is null", () -> tf.reduceSum(x, null, false));
    assertNull("reduceMean: x is null", () -> tf.reduceMean(null, new int[] {0}, false));
    assertNull("transpose: x is null", () -> tf.transpose(null));
    assertNull("addN: xs is null", () -> tf.addN(null));
    assertNull("AddN: input 1 is null", () -> tf.addN(Arrays.asList(x, null)));
    assertNull("concat: xs is null", () -> tf.concat(null, 0));
    assertNull("group: ops is null", () -> tf.group((Operation[]) null));
    assertNull("NoOp: control input is null", () -> tf.group((Operation) null));
    assertNull("withControlDependencies: ops is null", () -> tf.withControlDependencies(null));
    assertNull("withControlDependencies: op 0 is null", () -> tf.withControlDependencies(Arrays.asList((Operation) null)));
    assertNull("constant: values is null", () -> tf.constant((float[]) null));
    assertNull("constant: dtype is null", () -> tf.constant(1.0, null));
    assertNull("reshape: dims is null", () -> tf.reshape(x, (int[]) null));
    assertNull("customGradient: inputs is null", () -> tf.customGradient(null, in -> in, (t, i, o, d) -> d));
    assertNull("customGradient: forward is null", () -> tf.customGradient(List.of(x), null, (t, i, o, d) -> d));
    assertNull("customGradient: backward is null", () -> tf.customGradient(List.of(x), in -> in, null));
    assertNull("Add: input 0 is null", () -> tf.add(null, x));
    assertNull("addInputs: inputs is null", () -> tf.opBuilder("AddN").addInputs(null));
  }
}
