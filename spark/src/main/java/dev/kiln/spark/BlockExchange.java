package dev.kiln.spark;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.apache.spark.TaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.storage.BlockData;
import org.apache.spark.storage.BlockId;
import org.apache.spark.storage.BlockManager;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.storage.TestBlockId;
import org.apache.spark.util.io.ChunkedByteBuffer;
import scala.Function1;
import scala.Option;
import scala.reflect.ClassTag$;

/**
 * Float arrays as blocks of Spark's block manager, the store Spark moves shuffle and broadcast data
 * through: a worker puts a block in its own executor's store (registered with the driver's master) and
 * any worker fetches it from there, executor to executor, so the driver carries none of the data.
 *
 * <p>The block manager is Spark's internal API (public in the bytecode); BigDL exchanges its parameters
 * the same way. Blocks are named {@code test_kiln_<run>_...}: Spark's free-form block ids.
 */
final class BlockExchange {
  private static final String PREFIX = "kiln_";

  private final BlockManager blocks;

  private BlockExchange(BlockManager blocks) {
    this.blocks = blocks;
  }

  /** The exchange of this JVM's executor (or of the driver, in local mode). */
  static BlockExchange local() {
    SparkEnv env = SparkEnv.get();
    if (env == null) {
      throw new IllegalStateException("Kiln's gradient exchange runs inside a Spark task; no SparkEnv here");
    }
    return new BlockExchange(env.blockManager());
  }

  static String gradientBlock(String run, long step, int from, int slice) {
    return PREFIX + run + "_g_" + step + "_" + from + "_" + slice;
  }

  static String sumBlock(String run, long step, int slice) {
    return PREFIX + run + "_s_" + step + "_" + slice;
  }

  /** Puts {@code data[from, to)} as block {@code name}, kept in memory and spilled to disk under pressure. */
  void put(String name, float[] data, int from, int to) {
    ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(to - from, Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(data, from, to - from);
    // an existing block of the same name (from an attempt that failed later) holds the same values: kept
    blocks.putBytes(id(name), new ChunkedByteBuffer(bytes), StorageLevel.MEMORY_AND_DISK_SER(), true,
        ClassTag$.MODULE$.Any());
  }

  /** Block {@code name}'s floats, from this executor's store or fetched from the one holding it. */
  float[] get(String name) {
    return find(name).orElseThrow(() -> new IllegalStateException("block '" + name + "' is on no live executor"
        + " (lost with its executor?); resume the run from its last checkpoint"));
  }

  /**
   * Block {@code name}'s floats once some worker of this step has put it. All of a barrier stage's
   * tasks run at once, so the block comes unless its task fails, and then Spark kills this task too
   * (checked while waiting). Spark's own {@code BarrierTaskContext.barrier()} polls once a second,
   * longer than a whole step of a small model; this waits with a backoff from 50 microseconds to 5 ms.
   */
  float[] await(String name, TaskContext task, long timeoutMillis) {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    long pause = 50_000;
    while (true) {
      Optional<float[]> found = find(name);
      if (found.isPresent()) {
        return found.get();
      }
      task.killTaskIfInterrupted();
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("block '" + name + "' did not arrive within " + timeoutMillis + " ms");
      }
      LockSupport.parkNanos(pause);
      pause = Math.min(pause * 2, 5_000_000);
    }
  }

  private Optional<float[]> find(String name) {
    BlockId id = id(name);
    Option<BlockData> local = blocks.getLocalBytes(id);
    if (local.isDefined()) {
      try {
        return Optional.of(floats(local.get().toByteBuffer()));
      } finally {
        blocks.releaseLockAndDispose(id, local.get(), Option.empty());
      }
    }
    Option<ChunkedByteBuffer> remote = blocks.getRemoteBytes(id);
    if (remote.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(floats(remote.get().toByteBuffer()));
    } finally {
      remote.get().dispose();
    }
  }

  /** Removes this executor's blocks of run {@code run} whose name (after the run) {@code drop} accepts. */
  void removeLocal(String run, Predicate<String> drop) {
    // tasks sharing this JVM's store (local mode, several cores) would race to remove the same blocks
    synchronized (BlockExchange.class) {
      removeMatching(run, drop);
    }
  }

  private void removeMatching(String run, Predicate<String> drop) {
    String prefix = PREFIX + run + "_";
    Function1<BlockId, Object> mine = b -> b instanceof TestBlockId t && t.id().startsWith(prefix)
        && drop.test(t.id().substring(prefix.length()));
    scala.collection.Iterator<BlockId> it = blocks.getMatchingBlockIds(mine).iterator();
    while (it.hasNext()) {
      blocks.removeBlock(it.next(), true);
    }
  }

  private static BlockId id(String name) {
    return TestBlockId.apply(name);
  }

  private static float[] floats(ByteBuffer b) {
    FloatBuffer f = b.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[f.remaining()];
    f.get(out);
    return out;
  }
}
