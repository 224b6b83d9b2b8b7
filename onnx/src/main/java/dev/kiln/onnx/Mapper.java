package dev.kiln.onnx;

/** Maps one ONNX node onto Kiln ops, defining each of its outputs. */
@FunctionalInterface
interface Mapper {
  void map(Node n);
}
