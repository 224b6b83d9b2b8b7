package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import dev.kiln.runtime.Session;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The generated CUDA C of every catalog op, run without a GPU: compiled as C++ by g++ against a small
 * emulation of CUDA's execution model (blocks run one after another; a block's threads are real
 * threads meeting at {@code __syncthreads}, its {@code __shared__} arrays shared), on random inputs,
 * and compared with the CPU runtime within the catalog's tolerances. Grids are deliberately small
 * (2 or 7 blocks of 3 or 256 threads) so grid-stride loops wrap. This checks the generated index
 * arithmetic, broadcasting and reductions here; {@link CudaOpsTest} checks the same on a GPU.
 * Skipped with a message where g++ is absent.
 */
class KernelEmulationTest {
  private static final String EMULATION = """
      #include <math.h>
      #include <cstring>
      #include <cstdio>
      #include <cstdlib>
      #include <string>
      #include <vector>
      #include <thread>
      #include <barrier>
      #include <functional>
      struct kiln_dim3 { unsigned int x = 0, y = 1, z = 1; };
      static thread_local kiln_dim3 threadIdx, blockIdx;
      static kiln_dim3 blockDim, gridDim;
      static std::barrier<>* kiln_barrier = nullptr;
      #define __global__
      #define __device__
      #define __forceinline__ inline
      #define __restrict__ __restrict
      #define __shared__ static
      inline void __syncthreads() { kiln_barrier->arrive_and_wait(); }
      inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
      inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
      inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
      inline double rsqrt(double x) { return 1.0 / sqrt(x); }
      // Runs a kernel: blocks in turn; with block mode, the block's threads concurrently.
      static void kiln_run(unsigned grid, unsigned block, bool threads, const std::function<void()>& k) {
        gridDim.x = grid; blockDim.x = block;
        for (unsigned b = 0; b < grid; b++) {
          if (!threads) {
            for (unsigned t = 0; t < block; t++) { blockIdx.x = b; threadIdx.x = t; k(); }
            continue;
          }
          std::barrier<> bar(block);
          kiln_barrier = &bar;
          std::vector<std::thread> ts;
          for (unsigned t = 0; t < block; t++) {
            ts.emplace_back([&, b, t] { blockIdx.x = b; threadIdx.x = t; k(); });
          }
          for (auto& th : ts) th.join();
        }
      }
      static std::vector<unsigned char> kiln_read(const std::string& path, size_t bytes) {
        std::vector<unsigned char> v(bytes + 16);
        FILE* f = fopen(path.c_str(), "rb");
        if (!f || fread(v.data(), 1, bytes, f) != bytes) { fprintf(stderr, "cannot read %s\\n", path.c_str()); exit(2); }
        fclose(f);
        return v;
      }
      static void kiln_write(const std::string& path, const std::vector<unsigned char>& v, size_t bytes) {
        FILE* f = fopen(path.c_str(), "wb");
        if (!f || fwrite(v.data(), 1, bytes, f) != bytes) { fprintf(stderr, "cannot write %s\\n", path.c_str()); exit(2); }
        fclose(f);
      }
      """;

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
  void generatedKernelsComputeWhatTheCpuComputes(DType d, @TempDir Path dir) throws Exception {
    assumeTrue(gxx() != null, "no g++: the generated kernels are emulated on the CPU with g++");
    List<OpCatalog.OpCase> cases = OpCatalog.cases(d);
    StringBuilder src = new StringBuilder(EMULATION).append(CudaTypes.PRELUDE);
    StringBuilder main = new StringBuilder("int main(int argc, char** argv) {\n  std::string dir = argv[1];\n");
    Map<Integer, List<Tensor>> cpu = new HashMap<>();
    Map<Integer, List<TensorType>> outTypes = new HashMap<>();
    for (int k = 0; k < cases.size(); k++) {
      OpCatalog.OpCase c = cases.get(k);
      Operation op = c.node();
      List<TensorType> in = op.inputs().stream().map(Output::type).toList();
      CudaCodegen.KernelSource ks = CudaCodegen.generate(op, in, op.outputTypes());
      src.append("namespace k").append(k).append(" {\n")
          .append(ks.source().substring(CudaTypes.PRELUDE.length()).replace(CudaCodegen.ENTRY + "(", CudaCodegen.ENTRY + "_" + k + "("))
          .append("}\n");
      // Inputs: random, written for the emulator; the CPU runtime's answer for comparison.
      Random rnd = new Random(c.label().hashCode());
      Map<Output, Tensor> feeds = new HashMap<>();
      List<String> args = new ArrayList<>();
      main.append("  {\n");
      for (int i = 0; i < c.inputs().size(); i++) {
        Output x = c.inputs().get(i);
        Tensor t = GpuSupport.random(rnd, x.dtype(), x.shape(), c.positive());
        feeds.put(x, t);
        write(dir.resolve(k + "_in" + i + ".bin"), t);
        long bytes = CudaPlan.bytes(t.type());
        main.append("    auto in").append(i).append(" = kiln_read(dir + \"/").append(k).append("_in").append(i)
            .append(".bin\", ").append(bytes).append(");\n");
        args.add("(const " + CudaTypes.c(x.dtype()) + "*)in" + i + ".data()");
      }
      for (int j = 0; j < op.numOutputs(); j++) {
        long bytes = CudaPlan.bytes(op.outputType(j));
        main.append("    std::vector<unsigned char> out").append(j).append("(").append(bytes + 16).append(");\n");
        args.add("(" + CudaTypes.c(op.outputType(j).dtype()) + "*)out" + j + ".data()");
      }
      if (ks.launch().counter()) {
        args.add("0ULL");
      }
      boolean block = ks.launch().blockPerItem();
      main.append("    kiln_run(").append(block ? Math.min(7, ks.launch().gridSize()) : 2).append(", ").append(block ? Launch.BLOCK : 3)
          .append(", ").append(block).append(", [&] { k").append(k).append("::").append(CudaCodegen.ENTRY).append('_').append(k)
          .append("(").append(String.join(", ", args)).append("); });\n");
      for (int j = 0; j < op.numOutputs(); j++) {
        main.append("    kiln_write(dir + \"/").append(k).append("_out").append(j).append(".bin\", out").append(j).append(", ")
            .append(CudaPlan.bytes(op.outputType(j))).append(");\n");
      }
      main.append("  }\n");
      try (Session s = new Session(c.graph(), GpuSupport.CPU)) {
        cpu.put(k, s.run(feeds, c.reference().toArray(Output[]::new)));
      }
      outTypes.put(k, op.outputTypes());
    }
    src.append(main).append("  return 0;\n}\n");
    Path cc = dir.resolve("kernels.cc");
    Files.writeString(cc, src);
    Path exe = dir.resolve("kernels");
    run(List.of(gxx(), "-std=c++20", "-O1", "-w", "-pthread", "-o", exe.toString(), cc.toString()), "g++");
    run(List.of(exe.toString(), dir.toString()), "emulated kernels");
    List<String> failures = new ArrayList<>();
    for (int k = 0; k < cases.size(); k++) {
      OpCatalog.OpCase c = cases.get(k);
      for (int j = 0; j < outTypes.get(k).size(); j++) {
        TensorType t = outTypes.get(k).get(j);
        Tensor emulated = read(dir.resolve(k + "_out" + j + ".bin"), t);
        double tol = c.node().type().startsWith("Random") ? (d == DType.FLOAT32 ? 1e-6 : 1e-12) : c.tolerance();
        try {
          GpuSupport.assertClose(c.label() + " output " + j, cpu.get(k).get(j), emulated, tol);
        } catch (AssertionError e) {
          failures.add(e.getMessage());
        }
      }
    }
    assertEquals(List.of(), failures);
  }

  private static String gxx() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "g++"))) {
        return Path.of(dir, "g++").toString();
      }
    }
    return null;
  }

  private static void run(List<String> cmd, String what) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError(what + " failed:\n" + log.substring(0, Math.min(log.length(), 4000)));
    }
  }

  private static void write(Path file, Tensor t) throws IOException {
    ByteBuffer b = ByteBuffer.allocate((int) CudaPlan.bytes(t.type())).order(ByteOrder.nativeOrder());
    HostArrays.put(HostBuffers.array(t), (int) t.type().shape().numElements(), b, 0);
    Files.write(file, b.array());
  }

  private static Tensor read(Path file, TensorType t) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.nativeOrder());
    int n = (int) t.shape().numElements();
    Object a = HostBuffers.allocate(t.dtype(), n);
    HostArrays.get(b, 0, a, n);
    return HostBuffers.adopt(t.dtype(), t.shape(), a);
  }
}
