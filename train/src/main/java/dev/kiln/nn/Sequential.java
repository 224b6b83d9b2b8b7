package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Layers applied one after the other: {@code Sequential.of(new Linear(784, 128), new ReLU(),
 * new Linear(128, 10)).apply(tf, x)}. Each layer keeps its own scope ({@code linear},
 * {@code relu}, {@code linear_1}).
 */
public record Sequential(List<Layer> layers) implements Layer {
  public Sequential {
    layers = List.copyOf(layers);
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("Sequential: needs at least one layer");
    }
  }

  public static Sequential of(Layer... layers) {
    return new Sequential(List.of(layers));
  }

  @Override
  public Output apply(Ops tf, Output x) {
    Output y = x;
    for (Layer layer : layers) {
      y = layer.apply(tf, y);
    }
    return y;
  }

  /** Every layer's trainable variables in layer order, each once. */
  @Override
  public List<Variable> trainableVariables() {
    LinkedHashSet<Variable> all = new LinkedHashSet<>();
    layers.forEach(l -> all.addAll(l.trainableVariables()));
    return List.copyOf(all);
  }
}
