package dev.kiln.train;

import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Saves and restores the values of all of a Session's variables (model weights and optimizer slots).
 * The file format is versioned and checksummed (docs/checkpoint-format.md). A save writes a temporary
 * file beside the target, forces it to disk and renames it over the target atomically, so a crash at
 * any point leaves either the previous checkpoint or the new one, never a mix. A restore checks the
 * whole file and its match with the graph before changing any variable.
 */
public final class Saver {
  private Saver() {}

  /**
   * Writes every variable of the session's graph to {@code path}, replacing it atomically. Temporary
   * files that killed saves of the same path left behind are removed.
   */
  public static void save(Session session, Path path) throws IOException {
    save(session, path, () -> {});
  }

  /** As {@link #save(Session, Path)}, running {@code beforeRename} between writing and renaming (tests). */
  static void save(Session session, Path path, Runnable beforeRename) throws IOException {
    // One consistent state of all variables (as a run sees them), even while other threads train.
    CheckpointFiles.write(path, toBytes(session), beforeRename);
  }

  /**
   * Every variable of the session's graph as the bytes of a checkpoint file (the same format as
   * {@link #save}): for sending a model's state over a network or keeping it in memory.
   */
  public static byte[] toBytes(Session session) {
    Map<String, Tensor> values = new LinkedHashMap<>();
    session.variableValues(session.graph().variables()).forEach((v, t) -> values.put(v.name(), t));
    return CheckpointFormat.encode(values);
  }

  /**
   * Writes checkpoint {@code bytes} (from {@link #toBytes}) to {@code path} as {@link #save} does,
   * atomically; fails with a {@link CheckpointException}, writing nothing, if they are not a checkpoint.
   */
  public static void write(byte[] bytes, Path path) throws IOException {
    CheckpointFormat.decode(bytes, "in-memory checkpoint");
    CheckpointFiles.write(path, bytes, () -> {});
  }

  /**
   * As {@link #restore(Session, Path)} from checkpoint bytes in memory; {@code source} names them in
   * error messages.
   */
  public static void restore(Session session, byte[] bytes, String source) throws CheckpointException {
    restore(session, CheckpointFormat.decode(bytes, source), source);
  }

  /**
   * Sets every variable of the session's graph from {@code path}. Fails with a
   * {@link CheckpointException}, changing no variable, if the file is not a valid checkpoint or its
   * variables differ from the graph's in name, dtype or shape. Temporary files that killed saves of the
   * same path left behind are removed.
   */
  public static void restore(Session session, Path path) throws IOException {
    restore(session, CheckpointFiles.read(path), path.toString());
  }

  private static void restore(Session session, Map<String, Tensor> stored, String source)
      throws CheckpointException {
    String where = "checkpoint '" + source + "'";
    List<Variable> vars = session.graph().variables();
    Map<Variable, Tensor> values = new LinkedHashMap<>();
    for (Variable v : vars) {
      Tensor t = stored.get(v.name());
      if (t == null) {
        throw new CheckpointException(where + " has no value for variable '" + v.name() + "'");
      }
      if (t.dtype() != v.dtype()) {
        throw new CheckpointException("variable '" + v.name() + "' is " + v.dtype().shortName() + " in the graph but "
            + t.dtype().shortName() + " in " + where);
      }
      if (!t.shape().equals(v.shape())) {
        throw new CheckpointException("variable '" + v.name() + "' has shape " + v.shape() + " in the graph but "
            + t.shape() + " in " + where);
      }
      values.put(v, t);
    }
    if (stored.size() != vars.size()) {
      List<String> names = vars.stream().map(Variable::name).toList();
      String extra = stored.keySet().stream().filter(n -> !names.contains(n)).findFirst().orElseThrow();
      throw new CheckpointException(where + " holds variable '" + extra + "', which the graph does not have");
    }
    session.assignVariables(values);
  }
}
