package dev.kiln.train;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Shape;
import dev.kiln.runtime.Session;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link SaverTest}: saves a small model to {@code args[0]} and, with the new
 * checkpoint written to its temporary file but not yet renamed, says "written" and waits to be killed.
 */
public final class SaveUntilKilled {
  private SaveUntilKilled() {}

  public static void main(String[] args) throws IOException {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    tf.variable("w", tf.fill(Shape.of(1000), tf.constant(2f)));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      Saver.save(s, Path.of(args[0]), () -> {
        System.out.println("written");
        System.out.flush();
        try {
          System.in.read();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("the parent was to kill this process, not let it go on");
      });
    }
  }
}
