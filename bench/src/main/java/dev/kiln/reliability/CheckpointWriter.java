package dev.kiln.reliability;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import dev.kiln.train.Saver;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The child process {@link CheckpointKill} kills: saves a large checkpoint in a loop, generation after
 * generation, every element of {@code big} and the scalar {@code gen} holding the generation number.
 * Prints "ready" once, then "saved N" after each save returns. Arguments: checkpoint path, first
 * generation, element count.
 */
public final class CheckpointWriter {
  private CheckpointWriter() {}

  /** The graph the writer saves and the parent restores into. */
  record Model(Graph g, Variable big, Variable gen, Operation init) {
    static Model of(int elements) {
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Variable big = tf.variable("big", tf.fill(Shape.of(elements), tf.constant(0f)));
      Variable gen = tf.variable("gen", tf.constant(Tensor.scalar(0L)));
      return new Model(g, big, gen, tf.globalVariablesInitializer());
    }

    Map<Variable, Tensor> generation(long k) {
      float[] v = new float[big.shape().dim(0)];
      Arrays.fill(v, k);
      return Map.of(big, Tensor.of(v, v.length), gen, Tensor.scalar(k));
    }

    /** The generation a restored Session holds, or -1 with {@code why[0]} set when it is not one whole generation. */
    long generationOf(Session s, String[] why) {
      long k = s.variableValue(gen).longValue();
      float[] v = s.variableValue(big).toFloatArray();
      for (int i = 0; i < v.length; i++) {
        if (v[i] != k) {
          why[0] = "gen = " + k + " but big[" + i + "] = " + v[i];
          return -1;
        }
      }
      return k;
    }
  }

  public static void main(String[] args) throws Exception {
    Path path = Path.of(args[0]);
    long k = Long.parseLong(args[1]);
    Model m = Model.of(Integer.parseInt(args[2]));
    try (Session s = new Session(m.g())) {
      s.run(m.init());
      System.out.println("ready");
      System.out.flush();
      for (;; k++) {
        s.assignVariables(m.generation(k));
        Saver.save(s, path);
        System.out.println("saved " + k);
        System.out.flush();
      }
    }
  }
}
