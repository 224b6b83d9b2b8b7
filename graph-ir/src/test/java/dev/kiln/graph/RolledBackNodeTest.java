package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A node that a failed {@link Graph#atomically} call removed, or a node of another graph, cannot be
 * used: every entry point that takes one fails at the use, naming the node and why.
 */
class RolledBackNodeTest {
  private static final String ROLLED_BACK =
      " was rolled back: the Graph.atomically call that created Neg 'ghost' failed, so it is not in the graph";

  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output c = tf.withName("c").constant(2f);

  /** An output created inside an atomically call that then threw. */
  private Output ghost() {
    Output[] made = new Output[1];
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.atomically(() -> {
      made[0] = tf.withName("ghost").neg(c);
      throw new IllegalStateException("boom");
    }));
    assertEquals("boom", e.getMessage());
    return made[0];
  }

  @Test
  void aRolledBackOutputCannotBeAnInput() {
    Output ghost = ghost();
    assertFalse(g.contains(ghost.op()));
    assertTrue(g.contains(c.op()));
    assertFails("Add 'Add': input 0 'ghost'" + ROLLED_BACK, tf, () -> tf.add(ghost, c));
    assertFails("Mul 'Mul': input 1 'ghost'" + ROLLED_BACK, tf, () -> tf.mul(c, ghost));
    assertFails("Variable 'v': input 0 'ghost'" + ROLLED_BACK, tf, () -> tf.variable("v", ghost));
    assertFalse(g.toText().contains("ghost"), g.toText());
  }

  @Test
  void aNewNodeWithTheSameNameAndPositionIsNotTheRolledBackOne() {
    Output ghost = ghost();
    Output again = tf.withName("ghost").neg(c);
    assertEquals(ghost.op().id(), again.op().id());
    assertNotSame(ghost.op(), again.op());
    assertFails("Add 'Add': input 1 'ghost'" + ROLLED_BACK, tf, () -> tf.add(again, ghost));
    assertEquals("f32[]", tf.add(again, c).type().toString());
  }

  @Test
  void aRolledBackOperationCannotBeAControlInput() {
    Output ghost = ghost();
    assertFails("NoOp 'NoOp': control input 'ghost'" + ROLLED_BACK, tf,
        () -> tf.withControlDependencies(List.of(ghost.op())).noOp());
    assertFails("NoOp 'NoOp': control input 'ghost'" + ROLLED_BACK, tf, () -> tf.group(ghost.op()));
  }

  @Test
  void gradientsOfOrWithRespectToARolledBackOutputFail() {
    Output ghost = ghost();
    assertFails("gradients: y 'ghost'" + ROLLED_BACK, tf, () -> tf.gradients(ghost, c));
    Output y = tf.square(c);
    assertFails("gradients: x 'ghost'" + ROLLED_BACK, tf, () -> tf.gradients(y, ghost));
    assertFails("gradients: gradY 'ghost'" + ROLLED_BACK, tf, () -> tf.gradients(List.of(y), List.of(c), List.of(ghost)));
  }

  @Test
  void aRolledBackVariableHasNoInitializerBecauseItIsGone() {
    Variable[] made = new Variable[1];
    assertThrows(IllegalStateException.class, () -> g.atomically(() -> {
      made[0] = tf.variable("v", c);
      throw new IllegalStateException("boom");
    }));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, made[0]::initializer);
    assertEquals("variable 'v' was rolled back: the Graph.atomically call that created Variable 'v' failed, "
        + "so it is not in the graph", e.getMessage());
    assertFails("Assign 'Assign': input 0 'v' was rolled back: the Graph.atomically call that created Variable 'v' "
        + "failed, so it is not in the graph", tf, () -> tf.assign(made[0], c));
  }

  @Test
  void nodesOfAnotherGraphAreNamedToo() {
    Graph other = new Graph();
    Output foreign = Ops.create(other).withName("foreign").constant(1f);
    assertFalse(g.contains(foreign.op()));
    assertFails("Add 'Add': input 1 'foreign' belongs to another graph", tf, () -> tf.add(c, foreign));
    assertFails("NoOp 'NoOp': control input 'foreign' belongs to another graph", tf, () -> tf.group(foreign.op()));
    Output y = tf.square(c);
    assertFails("gradients: x 'foreign' belongs to another graph", tf, () -> tf.gradients(y, foreign));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> g.requireContains(foreign.op(), "fetch 'foreign'"));
    assertEquals("fetch 'foreign' belongs to another graph", e.getMessage());
  }
}
