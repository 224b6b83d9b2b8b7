/** Kiln's ONNX import: {@code OnnxModel.load} turns an ONNX model file into a Kiln graph. */
module dev.kiln.onnx {
  requires transitive dev.kiln.runtime;
  requires com.google.protobuf;

  exports dev.kiln.onnx;
}
