package dev.kiln.spark;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link Feed} resolved against the graph: the placeholder's dtype and the shape of one example (the
 * placeholder's shape without its leading batch dimension), which must be fully known.
 */
record FeedSpec(String placeholder, String column, DType dtype, List<Integer> exampleDims) implements Serializable {
  FeedSpec {
    exampleDims = List.copyOf(exampleDims);
  }

  static FeedSpec resolve(Graph graph, Feed feed) {
    Output p = graph.findOperation(feed.placeholder())
        .orElseThrow(() -> new IllegalArgumentException(
            "feed: the graph has no node '" + feed.placeholder() + "' (fed from column '" + feed.column() + "')"))
        .output(0);
    if (!p.op().type().equals("Placeholder")) {
      throw new IllegalArgumentException("feed: '" + feed.placeholder() + "' is a " + p.op().type()
          + ", not a Placeholder");
    }
    Shape s = p.shape();
    if (s.rank() < 1) {
      throw new IllegalArgumentException("feed: placeholder '" + feed.placeholder() + "' has shape " + s
          + "; it needs a leading batch dimension");
    }
    int[] dims = s.dims();
    int[] example = Arrays.copyOfRange(dims, 1, dims.length);
    for (int d : example) {
      if (d < 0) {
        throw new IllegalArgumentException("feed: placeholder '" + feed.placeholder() + "' has shape " + s
            + "; all but its batch dimension must be known");
      }
    }
    if (p.dtype() != DType.FLOAT32 && p.dtype() != DType.FLOAT64 && p.dtype() != DType.INT32
        && p.dtype() != DType.INT64) {
      throw new IllegalArgumentException("feed: placeholder '" + feed.placeholder() + "' is "
          + p.dtype().shortName() + "; only f32, f64, i32 and i64 can be fed from a column");
    }
    return new FeedSpec(feed.placeholder(), feed.column(), p.dtype(), Arrays.stream(example).boxed().toList());
  }

  /** Values in one example. */
  int exampleSize() {
    int n = 1;
    for (int d : exampleDims) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** The shape of {@code rows} examples: {@code [rows, exampleDims...]}. */
  int[] batchDims(int rows) {
    int[] dims = new int[exampleDims.size() + 1];
    dims[0] = rows;
    for (int i = 0; i < exampleDims.size(); i++) {
      dims[i + 1] = exampleDims.get(i);
    }
    return dims;
  }
}
