package dev.kiln.spark;

import java.io.Serializable;
import org.apache.spark.broadcast.Broadcast;

/**
 * The newest recovery point of a run: the checkpoint after {@code step} steps, broadcast so that an
 * executor reads it only when it has no replica at or after that step (a new or replaced executor).
 */
record Recovery(long step, Broadcast<byte[]> checkpoint) implements Serializable {}
