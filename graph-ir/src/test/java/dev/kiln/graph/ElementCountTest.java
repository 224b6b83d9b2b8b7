package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static dev.kiln.graph.InferenceSupport.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Element counts are computed exactly: a shape with more elements than a tensor can hold is an error
 * naming the op, node and shape, never a count that wrapped around.
 */
class ElementCountTest {
  private static final int MAX = Integer.MAX_VALUE - 8;
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  /** The expected message tail, with the count computed independently of Shape. */
  private static String tooMany(String shape, long... dims) {
    BigInteger n = BigInteger.ONE;
    for (long d : dims) {
      n = n.multiply(BigInteger.valueOf(d));
    }
    return "shape " + shape + " has " + n + " elements, more than a tensor can hold (" + MAX + ")";
  }

  @Test
  void tensorFactoriesRejectShapesWhoseCountWraps() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.of(new float[0], 65536, 65536, 65536, 65536));
    assertEquals("Tensor.of: " + tooMany("[65536,65536,65536,65536]", 65536, 65536, 65536, 65536), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new int[0], 1 << 16, 1 << 16));
    assertEquals("Tensor.of: " + tooMany("[65536,65536]", 1 << 16, 1 << 16), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.zeros(DType.FLOAT32, Shape.of(1 << 21, 1 << 21, 1 << 21)));
    assertEquals("Tensor.zeros: " + tooMany("[2097152,2097152,2097152]", 1 << 21, 1 << 21, 1 << 21), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.BOOL, Shape.of(46341, 46341)));
    assertEquals("Tensor.zeros: " + tooMany("[46341,46341]", 46341, 46341), e.getMessage());
    // A zero dimension makes any shape empty, however large the others.
    assertEquals(0, Tensor.zeros(DType.INT64, Shape.of(Integer.MAX_VALUE, 0, Integer.MAX_VALUE)).size());
  }

  @Test
  void shapeCountsAreExactOrSaturate() {
    assertEquals(4294967296L, Shape.of(65536, 65536).numElements());
    assertEquals(Long.MAX_VALUE, Shape.of(65536, 65536, 65536, 65536).numElements());
    assertEquals(Long.MAX_VALUE, Shape.of(1 << 21, 1 << 21, 1 << 21).numElements());
    assertEquals(0, Shape.of(1 << 21, 1 << 21, 1 << 21, 0).numElements());
    assertEquals(6, Shape.of(2, 3).elementCount());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(65536, 65536).elementCount());
    assertEquals(tooMany("[65536,65536]", 65536, 65536), e.getMessage());
    IllegalStateException unknown = assertThrows(IllegalStateException.class, () -> Shape.of(-1, 2).elementCount());
    assertEquals("shape [?,2] is not fully defined, so it has no element count", unknown.getMessage());
  }

  @Test
  void fillOfAHugeShapeFailsWhenBuilt() {
    Output one = tf.constant(1f);
    assertFails("Fill 'Fill': " + tooMany("[65536,65536,65536,65536]", 65536, 65536, 65536, 65536), tf,
        () -> tf.reduceSum(tf.fill(Shape.of(65536, 65536, 65536, 65536), one)));
    assertFails("Fill 'fill_1': " + tooMany("[65536,65536]", 65536, 65536), tf,
        () -> tf.withName("fill_1").fill(Shape.of(65536, 65536), one));
  }

  @Test
  void randomOpsAndPlaceholdersOfAHugeShapeFailWhenBuilt() {
    assertFails("RandomNormal 'RandomNormal': " + tooMany("[65536,65536]", 65536, 65536), tf,
        () -> tf.randomNormal(Shape.of(65536, 65536), 1));
    assertFails("RandomUniform 'RandomUniform': " + tooMany("[3,1000000000]", 3, 1000000000), tf,
        () -> tf.randomUniform(Shape.of(3, 1000000000), 1));
    assertFails("Placeholder 'x': " + tooMany("[50000,50000]", 50000, 50000), tf,
        () -> tf.placeholder("x", DType.FLOAT32, Shape.of(50000, 50000)));
  }

  @Test
  void knownDimensionsAloneCanBeTooMany() {
    assertFails("Placeholder 'x': shape [?,65536,65536] has 4294967296 elements in its known dimensions, more "
        + "than a tensor can hold (" + MAX + ")", tf, () -> tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 65536, 65536)));
    // Known dimensions that fit are fine: the unknown one is checked when it becomes known.
    tf.placeholder("y", DType.FLOAT32, Shape.of(-1, 65536, 32767));
  }

  @Test
  void productsOfInputShapesAreChecked() {
    Output col = in(tf, "f32[65536,1]");
    Output row = in(tf, "f32[1,65536]");
    assertFails("MatMul 'MatMul': " + tooMany("[65536,65536]", 65536, 65536), tf, () -> tf.matmul(col, row));
    assertFails("Add 'Add': " + tooMany("[65536,65536]", 65536, 65536), tf, () -> tf.add(col, row));
    Output cols = in(tf, "f32[?,1]");
    Output rows = in(tf, "f32[1,?]");
    assertEquals("f32[?,?]", tf.matmul(cols, rows).type().toString());
    Output indices = in(tf, "i32[100000]");
    assertFails("OneHot 'OneHot': " + tooMany("[100000,100000]", 100000, 100000), tf, () -> tf.oneHot(indices, 100000));
  }

  @Test
  void dimensionSumsAreChecked() {
    Output big = in(tf, "bool[1073741824]");
    assertFails("Concat 'Concat': axis 0 would have size 2147483648, more than a tensor can hold (" + MAX + ")",
        tf, () -> tf.concat(List.of(big, big), 0));
    Output one = in(tf, "f32[1]");
    assertFails("Pad 'Pad': dimension 0 would have size 2147483648, more than a tensor can hold (" + MAX + ")",
        tf, () -> tf.pad(one, 0, Integer.MAX_VALUE));
    Output some = in(tf, "f32[?]");
    assertFails("Slice 'Slice': size 4294967296 along axis 0 is more than a tensor can hold (" + MAX + ")",
        tf, () -> tf.opBuilder("Slice").addInput(some).setAttr("begin", new long[] {0})
            .setAttr("size", new long[] {1L << 32}).build());
  }

  @Test
  void reshapeToAHugeShapeFails() {
    Output empty = in(tf, "f32[0]");
    assertFails("Reshape 'Reshape': target " + tooMany("[65536,65536,65536,65536]", 65536, 65536, 65536, 65536),
        tf, () -> tf.reshape(empty, 65536, 65536, 65536, 65536));
    assertFails("Reshape 'Reshape': target shape [?,65536,65536] has 4294967296 elements in its known dimensions, "
        + "more than a tensor can hold (" + MAX + ")", tf, () -> tf.reshape(empty, -1, 65536, 65536));
  }

  /** A user op type whose second output is far too large. */
  private record HugeOutput() implements OpDef {
    @Override
    public String type() {
      return "TestHugeOutput";
    }

    @Override
    public int minInputs() {
      return 0;
    }

    @Override
    public int maxInputs() {
      return 0;
    }

    @Override
    public List<TensorType> infer(OpContext c) {
      return List.of(new TensorType(DType.FLOAT32, Shape.of(1)), new TensorType(DType.FLOAT32, Shape.of(1 << 20, 1 << 20)));
    }
  }

  static {
    OpRegistry.register(new HugeOutput());
  }

  @Test
  void userOpsInferringHugeShapesFailToo() {
    assertFails("TestHugeOutput 'h': output 1: " + tooMany("[1048576,1048576]", 1 << 20, 1 << 20), tf,
        () -> g.opBuilder("TestHugeOutput", "h").build());
  }

  @Test
  void graphFilesWithHugeShapesFailAtTheirPosition() {
    GraphParseException e = assertThrows(GraphParseException.class,
        () -> Graph.parse("graph g {\n  %p = Placeholder() {dtype = f32, shape = [65536, 65536]}\n}\n", "big.kg"));
    assertEquals("big.kg:2:8: Placeholder 'p': " + tooMany("[65536,65536]", 65536, 65536), e.getMessage());
    e = assertThrows(GraphParseException.class,
        () -> Graph.parse("graph g {\n  %c = Const() {value = dense<f32[65536,65536]>\"AAAA\"}\n}\n", "big.kg"));
    assertEquals("big.kg:2:31: dense value f32[65536,65536]: " + tooMany("[65536,65536]", 65536, 65536), e.getMessage());
  }

  @Test
  void hostBuffersRejectSizesNoArrayCanHave() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostBuffers.allocate(DType.FLOAT32, -1));
    assertEquals("HostBuffers.allocate: -1 elements: a size is 0.." + MAX, e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> HostBuffers.allocate(DType.INT32, Integer.MAX_VALUE));
    assertEquals("HostBuffers.allocate: " + Integer.MAX_VALUE + " elements: a size is 0.." + MAX, e.getMessage());
  }
}
