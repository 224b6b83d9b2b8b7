package dev.kiln.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * CUDA C to PTX, cached by the SHA-256 of (architecture, source): in memory, then on disk
 * ({@code ~/.cache/kiln/cuda/<sha256>.ptx}, or {@code $KILN_CUDA_CACHE}), then compiled. Compilers, in
 * order: NVRTC through jcuda (needs {@code libnvrtc.so.12}: a CUDA 12 toolkit, or a soname link to a
 * newer NVRTC), then {@code nvcc -ptx} ({@code $KILN_NVCC}, {@code nvcc} on the PATH, or
 * {@code /usr/local/cuda/bin/nvcc}). The PTX is loaded with the driver API, so running needs only
 * {@code libcuda.so.1} once the cache holds every kernel (see docs/cuda.md).
 */
final class PtxCompiler {
  private final Path cacheDir;
  private final String arch;
  private final ConcurrentHashMap<String, String> memory = new ConcurrentHashMap<>();

  /** @param arch a virtual architecture, e.g. {@code compute_90} */
  PtxCompiler(Path cacheDir, String arch) {
    this.cacheDir = cacheDir;
    this.arch = arch;
  }

  static Path defaultCacheDir() {
    String env = System.getenv("KILN_CUDA_CACHE");
    return env != null && !env.isEmpty() ? Path.of(env)
        : Path.of(System.getProperty("user.home"), ".cache", "kiln", "cuda");
  }

  String arch() {
    return arch;
  }

  /** The cache key of a source for this architecture. */
  String key(String source) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(arch.getBytes(StandardCharsets.UTF_8));
      md.update((byte) '\n');
      md.update(source.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The PTX of {@code source} (NUL-free text). */
  String ptx(String source) {
    String key = key(source);
    return memory.computeIfAbsent(key, k -> fromDiskOrCompile(k, source));
  }

  private String fromDiskOrCompile(String key, String source) {
    Path file = cacheDir.resolve(key + ".ptx");
    try {
      if (Files.isRegularFile(file)) {
        return Files.readString(file);
      }
      String ptx = Nvrtc.available() ? Nvrtc.compile(source, arch) : nvcc(source);
      Files.createDirectories(cacheDir);
      Path tmp = Files.createTempFile(cacheDir, key, ".tmp");
      Files.writeString(tmp, ptx);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return ptx;
    } catch (IOException e) {
      throw new UncheckedIOException("PTX cache " + cacheDir + ": " + e.getMessage(), e);
    }
  }

  /** The nvcc to use, if any. */
  static Optional<Path> findNvcc() {
    String env = System.getenv("KILN_NVCC");
    if (env != null && !env.isEmpty()) {
      return Optional.of(Path.of(env)).filter(Files::isExecutable);
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
        return Optional.of(Path.of(dir, "nvcc"));
      }
    }
    return Optional.of(Path.of("/usr/local/cuda/bin/nvcc")).filter(Files::isExecutable);
  }

  /** Compiles with {@code nvcc -ptx}; a compile error is reported with nvcc's message. */
  String nvcc(String source) throws IOException {
    Path nvcc = findNvcc().orElseThrow(() -> new IllegalStateException(
        "cannot compile CUDA kernels: no NVRTC (libnvrtc.so.12) and no nvcc (set KILN_NVCC or put nvcc on the PATH)"));
    Path dir = Files.createTempDirectory("kiln-nvcc");
    try {
      Path cu = dir.resolve("kernel.cu");
      Path ptx = dir.resolve("kernel.ptx");
      Files.writeString(cu, source);
      Process p = new ProcessBuilder(List.of(nvcc.toString(), "-ptx", "-arch=" + arch, "-std=c++17", "-diag-suppress=177", "-o",
          ptx.toString(), cu.toString())).redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("nvcc timed out");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("nvcc failed (exit " + p.exitValue() + "):\n" + log);
      }
      return Files.readString(ptx);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while compiling with nvcc", e);
    } finally {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(dir);
    }
  }
}
