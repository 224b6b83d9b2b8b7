package dev.kiln.onnx;

/** An ONNX model that cannot be imported: the message names the file, the node and why. */
public class OnnxImportException extends RuntimeException {
  public OnnxImportException(String message) {
    super(message);
  }

  public OnnxImportException(String message, Throwable cause) {
    super(message, cause);
  }
}
