package dev.kiln.train;

import java.io.IOException;

/**
 * A checkpoint that cannot be restored: not a Kiln checkpoint, an unsupported version, truncated,
 * corrupted (checksum mismatch), or holding variables that differ from the graph's.
 */
public final class CheckpointException extends IOException {
  public CheckpointException(String message) {
    super(message);
  }
}
