package dev.kiln.spark;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import dev.kiln.train.CheckpointException;
import dev.kiln.train.Saver;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model to score with, as plain data (graph text, checkpoint bytes, the input placeholder and the
 * output), and the executor side: one Session per model and JVM, made on first use and shared by every
 * task and partition that scores with it (Session runs are thread-safe).
 */
record ScoringModel(String id, String graphText, byte[] checkpoint, String input, String output)
    implements Serializable {
  private static final int MAX_MODELS = 4;
  private static final Map<String, Loaded> LOADED = new LinkedHashMap<>(8, 0.75f, true);

  /** A model's Session in this JVM, with its input's description and output. */
  record Loaded(Session session, FeedSpec input, Output output) {
    /** The output for each of {@code rows}' values (one per example), flattened to floats. */
    List<float[]> score(List<Object> values, Object where) {
      ExampleBlock.Builder b = new ExampleBlock.Builder(List.of(input), values.size());
      for (Object v : values) {
        b.add(java.util.Collections.singletonList(v), where);
      }
      ExampleBlock block = b.build();
      Tensor out = session.runner().feed(input.placeholder(), block.tensor(0, 0, block.rows())).fetch(output).run()
          .getFirst();
      int rows = block.rows();
      if (out.shape().rank() < 1 || out.shape().dim(0) != rows) {
        throw new IllegalStateException("output '" + output.name() + "' has shape " + out.shape() + " for a batch of "
            + rows + "; its first dimension must be the batch");
      }
      int per = rows == 0 ? 0 : out.size() / rows;
      List<float[]> result = new ArrayList<>(rows);
      for (int r = 0; r < rows; r++) {
        float[] row = new float[per];
        for (int i = 0; i < per; i++) {
          row[i] = (float) out.getDouble(r * per + i);
        }
        result.add(row);
      }
      return result;
    }
  }

  /** This JVM's Session for this model. */
  Loaded load() {
    synchronized (LOADED) {
      Loaded l = LOADED.get(id);
      if (l == null) {
        Graph g = Graph.parse(graphText, "scoring-graph");
        Session s = new Session(g);
        try {
          Saver.restore(s, checkpoint, "scoring model");
        } catch (CheckpointException e) {
          s.close();
          throw new IllegalStateException(e.getMessage(), e);
        }
        l = new Loaded(s, FeedSpec.resolve(g, Feed.of(input, "input")), g.output(output));
        LOADED.put(id, l);
        Iterator<Map.Entry<String, Loaded>> it = LOADED.entrySet().iterator();
        while (LOADED.size() > MAX_MODELS && it.hasNext()) {
          it.next().getValue().session().close();
          it.remove();
        }
      }
      return l;
    }
  }
}
