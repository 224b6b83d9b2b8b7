package dev.kiln.graph.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.AttrDef;
import dev.kiln.graph.AttrDef.Constraint;
import dev.kiln.graph.AttrSchema;
import dev.kiln.graph.AttrType;
import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphParseException;
import dev.kiln.graph.OpContext;
import dev.kiln.graph.OpDef;
import dev.kiln.graph.OpRegistry;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.TensorType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A user op type declares its attributes through the public schema API, outside the graph package. */
class UserOpSchemaTest {
  private static final String TYPE = "UserScaleShift";

  /** y = x * scale + shift, optionally clipped; scale is required, shift and mode have defaults. */
  static final class ScaleShiftDef implements OpDef {
    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public int minInputs() {
      return 1;
    }

    @Override
    public int maxInputs() {
      return 1;
    }

    private static final AttrSchema ATTRS = AttrSchema.of(
        AttrDef.required("scale", AttrType.FLOAT).constrained(Constraint.finite()),
        AttrDef.optional("shift", AttrType.FLOAT, 0.0),
        AttrDef.optional("mode", AttrType.STRING, "linear").constrained(Constraint.oneOf("linear", "clip")),
        AttrDef.optional("note", AttrType.STRING));

    @Override
    public AttrSchema attrSchema() {
      return ATTRS;
    }

    @Override
    public List<TensorType> infer(OpContext c) {
      // The schema filled the defaults in before inference: both are always there.
      c.attrs().getDouble("shift");
      c.attrs().getString("mode");
      return List.of(c.input(0));
    }
  }

  static synchronized void register() {
    if (OpRegistry.find(TYPE).isEmpty()) {
      OpRegistry.register(new ScaleShiftDef());
    }
  }

  @Test
  void defaultsAreFilledAndOptionalOnesWithoutADefaultStayAbsent() {
    register();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Operation op = tf.withName("s").opBuilder(TYPE).addInput(x).setAttr("scale", 2.0).build();
    assertEquals(0.0, op.attrs().getDouble("shift"));
    assertEquals("linear", op.attrs().getString("mode"));
    assertEquals(false, op.attrs().has("note"));
    assertEquals("  %s = UserScaleShift(%x) {mode = \"linear\", scale = 2.0, shift = 0.0} : f32[3]",
        g.toText().lines().toList().get(2));
  }

  @Test
  void badAttributesAreErrorsInCodeAndInText() {
    register();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("s").opBuilder(TYPE).addInput(x).setAttr("sacle", 2.0));
    assertEquals("UserScaleShift 's': unknown attribute 'sacle' (did you mean 'scale'?)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("s").opBuilder(TYPE).addInput(x).setAttr("mode", "wrap"));
    assertEquals("UserScaleShift 's': attribute 'mode' must be one of \"linear\", \"clip\", got \"wrap\"", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> tf.withName("s").opBuilder(TYPE).addInput(x).build());
    assertEquals("UserScaleShift 's': missing attribute 'scale' (a float)", e.getMessage());

    GraphParseException p = assertThrows(GraphParseException.class, () -> Graph.parse("""
        graph {
          %x = Placeholder() {dtype = f32, shape = [3]}
          %s = UserScaleShift(%x) {scale = 2.0, shfit = 1.0}
        }
        """, "user.kg"));
    assertEquals("user.kg:3:41: UserScaleShift 's': unknown attribute 'shfit' (did you mean 'shift'?)", p.getMessage());
  }

  @Test
  void aBadDeclarationFailsWhenItIsMade() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AttrDef.optional("mode", AttrType.STRING, 3));
    assertEquals("default of attribute 'mode' must be a string, got an int", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> AttrDef.optional("mode", AttrType.STRING, "x").constrained(Constraint.oneOf("a", "b")));
    assertEquals("default of attribute 'mode' must be one of \"a\", \"b\", got \"x\"", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> AttrSchema.of(AttrDef.required("a", AttrType.INT), AttrDef.required("a", AttrType.BOOL)));
    assertEquals("attribute 'a' is declared twice", e.getMessage());
  }
}
