package dev.kiln.train;

import dev.kiln.graph.Tensor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * A checkpoint's file on disk: written through a temporary file beside it ({@code <name>.<random>.tmp})
 * and renamed over it atomically, read as a stream.
 *
 * <p>A save that is killed leaves its temporary file behind; the next save or restore of the same path
 * removes such files. A save holds an exclusive lock on its temporary file from creating it until the
 * rename, and the operating system drops that lock when the process dies, so a temporary file that can
 * be locked belongs to no running save. Saves in this JVM are known by name and never touched, since on
 * POSIX systems merely opening and closing a file that this process has locked would drop the lock. On
 * a file system without locks, temporary files are written unlocked and never removed.
 */
final class CheckpointFiles {
  private static final int ATTEMPTS = 5;
  /** Names of the temporary files this JVM's saves are writing now. */
  private static final Set<String> IN_PROGRESS = ConcurrentHashMap.newKeySet();

  private CheckpointFiles() {}

  /** Writes {@code bytes} to {@code path}, replacing it atomically; runs {@code beforeRename} just before the rename. */
  static void write(Path path, byte[] bytes, Runnable beforeRename) throws IOException {
    Path target = path.toAbsolutePath();
    Path dir = target.getParent();
    Files.createDirectories(dir);
    removeAbandonedTemps(target);
    Temp tmp = Temp.create(target);
    try {
      try (FileChannel ch = tmp.channel()) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
        beforeRename.run();
        // renamed while still locked, so no cleanup can take the finished file
        Files.move(tmp.path(), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException | RuntimeException | Error e) {
        Files.deleteIfExists(tmp.path());
        throw e;
      }
    } finally {
      IN_PROGRESS.remove(tmp.path().getFileName().toString());
    }
    syncDirectory(dir);
  }

  /** A temporary file being written, open and (where the file system can) locked. */
  private record Temp(Path path, FileChannel channel) {
    static Temp create(Path target) throws IOException {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        String name = target.getFileName() + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()) + ".tmp";
        // known before the file exists, so this JVM's own cleanups never open it
        IN_PROGRESS.add(name);
        Path path = target.resolveSibling(name);
        FileChannel ch = null;
        try {
          ch = createLocked(path);
        } finally {
          if (ch == null) {
            IN_PROGRESS.remove(name);
          }
        }
        if (ch != null) {
          return new Temp(path, ch);
        }
      }
      throw new IOException("cannot create a temporary file beside " + target + ": each one vanished or existed");
    }
  }

  /**
   * Creates {@code tmp} and locks it; null if the name is taken, or if another process's cleanup removed
   * the file between its creation and the lock.
   */
  private static FileChannel createLocked(Path tmp) throws IOException {
    FileChannel ch;
    try {
      ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (FileAlreadyExistsException e) {
      return null;
    }
    try {
      ch.lock();
    } catch (IOException e) {
      return ch; // no locks on this file system: nothing removes the file while it is written
    } catch (RuntimeException | Error e) {
      ch.close();
      Files.deleteIfExists(tmp);
      throw e;
    }
    if (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
      return ch;
    }
    ch.close();
    return null;
  }

  /** Reads the checkpoint at {@code path}, first removing temporary files that killed saves left beside it. */
  static Map<String, Tensor> read(Path path) throws IOException {
    removeAbandonedTemps(path.toAbsolutePath());
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      // the size of a regular file bounds what its header may claim; a device or pipe is read as it comes
      long size = Files.isRegularFile(path) ? ch.size() : -1;
      InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 1 << 16);
      return CheckpointFormat.read(in, size, path.toString());
    }
  }

  /** Removes the temporary files of {@code target} that no running save holds. Best effort: errors are ignored. */
  static void removeAbandonedTemps(Path target) {
    Path dir = target.getParent();
    if (dir == null) {
      return;
    }
    Pattern temp = Pattern.compile(Pattern.quote(target.getFileName().toString()) + "\\.\\d+\\.tmp");
    DirectoryStream.Filter<Path> filter = p -> temp.matcher(p.getFileName().toString()).matches()
        && !IN_PROGRESS.contains(p.getFileName().toString());
    try (DirectoryStream<Path> candidates = Files.newDirectoryStream(dir, filter)) {
      for (Path p : candidates) {
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && !IN_PROGRESS.contains(p.getFileName().toString())) {
          removeIfUnlocked(p);
        }
      }
    } catch (IOException | DirectoryIteratorException e) {
      // a directory that cannot be listed keeps its temporary files
    }
  }

  private static void removeIfUnlocked(Path tmp) {
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
      FileLock lock = ch.tryLock();
      if (lock != null) {
        // deleted while locked, so a save that locks the file after this sees it gone and starts over
        Files.delete(tmp);
      }
    } catch (IOException | OverlappingFileLockException e) {
      // in use, gone already, or not lockable here: leave it
    }
  }

  /** Makes the rename durable; some file systems cannot open a directory, which is harmless. */
  private static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // best effort: the rename itself is already atomic
    }
  }
}
