package dev.kiln.graph;

import java.util.Objects;

/** The static type of a value: element type and (possibly partial) shape. */
public record TensorType(DType dtype, Shape shape) {
  public TensorType {
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
  }

  /** {@code f32[?,1000]}. */
  @Override
  public String toString() {
    return dtype.shortName() + shape;
  }
}
