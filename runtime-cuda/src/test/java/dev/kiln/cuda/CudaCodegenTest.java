package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.TensorType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The generated CUDA C of every op in the catalog (f32 and f64) compiles with {@code nvcc -ptx};
 * skipped with a message where nvcc is absent. No GPU needed.
 */
class CudaCodegenTest {
  private static final String NO_NVCC = "no nvcc: set KILN_NVCC or put nvcc on the PATH to compile generated kernels";

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
  void everyGeneratedKernelCompilesToPtx(DType d, @TempDir Path dir) throws Exception {
    assumeTrue(PtxCompiler.findNvcc().isPresent(), NO_NVCC);
    List<OpCatalog.OpCase> cases = OpCatalog.cases(d);
    // One file for all kernels (one nvcc run): each in its own namespace, entries renamed, the
    // shared prelude kept once.
    StringBuilder all = new StringBuilder(CudaTypes.PRELUDE);
    List<String> labels = new ArrayList<>();
    for (OpCatalog.OpCase c : cases) {
      Operation op = c.node();
      List<CudaCodegen.KernelSource> sources = new ArrayList<>();
      sources.add(CudaCodegen.generate(op, types(op.inputs()), op.outputTypes()));
      if (op.type().equals("FusedMatMul")) {
        sources.add(CudaCodegen.epilogue(op.outputType(0), op.inputs().get(2).type(), "relu"));
      }
      for (CudaCodegen.KernelSource s : sources) {
        assertTrue(s.source().startsWith(CudaTypes.PRELUDE), c.label());
        String entry = CudaCodegen.ENTRY + "_" + labels.size();
        labels.add(c.label());
        all.append("// ---- ").append(c.label()).append("\nnamespace k").append(labels.size()).append(" {\n")
            .append(s.source().substring(CudaTypes.PRELUDE.length()).replace(CudaCodegen.ENTRY + "(", entry + "("))
            .append("}\n");
      }
    }
    PtxCompiler compiler = new PtxCompiler(dir, "compute_75");
    String ptx = compiler.nvcc(all.toString());
    for (int i = 0; i < labels.size(); i++) {
      assertTrue(ptx.contains(".entry " + CudaCodegen.ENTRY + "_" + i + "("), "no PTX entry for " + labels.get(i));
    }
  }

  @Test
  void everyOpWithAKernelIsInTheCatalog() {
    Set<String> covered = new TreeSet<>();
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      OpCatalog.cases(d).forEach(c -> covered.add(c.node().type()));
    }
    Set<String> all = new TreeSet<>(CudaKernels.REGISTRY.opTypes());
    // Views are aliased and state lives on the device: neither launches a kernel.
    all.removeIf(t -> dev.kiln.graph.OpRegistry.get(t).traits().contains(dev.kiln.graph.OpTrait.VIEW));
    all.removeAll(Set.of("Variable", "Const", "Assign", "AssignAdd", "AssignSub"));
    all.removeAll(covered);
    assertEquals(Set.of(), all, "op types with a CUDA kernel but no catalog case");
  }

  @Test
  void ptxIsCachedByContentInMemoryAndOnDisk(@TempDir Path dir) throws IOException {
    assumeTrue(PtxCompiler.findNvcc().isPresent(), NO_NVCC);
    OpCatalog.OpCase add = OpCatalog.cases(DType.FLOAT32).stream().filter(c -> c.label().equals("Add row f32")).findFirst().orElseThrow();
    String source = CudaCodegen.generate(add.node(), types(add.node().inputs()), add.node().outputTypes()).source();
    PtxCompiler compiler = new PtxCompiler(dir, "compute_75");
    String ptx = compiler.ptx(source);
    assertTrue(ptx.contains(".entry " + CudaCodegen.ENTRY + "("), ptx);
    Path file = dir.resolve(compiler.key(source) + ".ptx");
    assertEquals(ptx, Files.readString(file));
    // A fresh compiler (new JVM) reads the disk cache: prove it by planting a marker there.
    Files.writeString(file, "// planted");
    assertEquals("// planted", new PtxCompiler(dir, "compute_75").ptx(source));
    assertEquals(ptx, compiler.ptx(source), "the first compiler answers from memory");
    assertNotEquals(compiler.key(source), new PtxCompiler(dir, "compute_90").key(source), "the key covers the architecture");
    assertEquals(64, compiler.key(source).length());
  }

  @Test
  void aCompileErrorCarriesNvccsMessage(@TempDir Path dir) {
    assumeTrue(PtxCompiler.findNvcc().isPresent(), NO_NVCC);
    IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> new PtxCompiler(dir, "compute_75").nvcc("extern \"C\" __global__ void k() { undefined_thing(); }"));
    assertTrue(e.getMessage().startsWith("nvcc failed (exit "), e.getMessage());
    assertTrue(e.getMessage().contains("undefined_thing"), e.getMessage());
  }

  @Test
  void theRegistryMirrorsTheKernelTable() {
    OpCatalog.OpCase soft = OpCatalog.cases(DType.FLOAT64).stream().filter(c -> c.label().equals("Softmax f64")).findFirst().orElseThrow();
    assertTrue(CudaKernels.REGISTRY.hasKernel(soft.node()));
    dev.kiln.graph.Graph g = new dev.kiln.graph.Graph();
    dev.kiln.graph.Ops tf = dev.kiln.graph.Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, dev.kiln.graph.Shape.of(2, 3));
    Output i = tf.placeholder("i", DType.INT32, dev.kiln.graph.Shape.of(3, 3));
    assertFalse(CudaKernels.REGISTRY.hasKernel(tf.matmul(i, i).op()), "integer products run on the host");
    assertTrue(CudaKernels.REGISTRY.hasKernel(tf.concat(List.of(x, x), 0).op()));
    assertTrue(CudaKernels.REGISTRY.hasKernel(tf.exp(x).op()));
  }

  /** A Fused node over x whose body reduces exp(x) with {@code reductions} (type, axes) as its results. */
  private static Operation fusedReductions(dev.kiln.graph.Shape shape, String[] types, long[][] axes) {
    dev.kiln.graph.Graph g = new dev.kiln.graph.Graph();
    dev.kiln.graph.Ops tf = dev.kiln.graph.Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, shape);
    dev.kiln.graph.Graph b = new dev.kiln.graph.Graph();
    Output p = b.opBuilder("Parameter", "p").setAttr("dtype", DType.FLOAT32).setAttr("shape", x.shape()).build().output(0);
    Output y = dev.kiln.graph.Ops.create(b).exp(p);
    List<Output> results = new ArrayList<>();
    for (int k = 0; k < types.length; k++) {
      List<Long> a = java.util.Arrays.stream(axes[k]).boxed().toList();
      results.add(b.opBuilder(types[k], "r" + k).addInput(y).setAttr("axes", a).setAttr("keep_dims", false).build().output(0));
    }
    return tf.withName("f").opBuilder("Fused").addInput(x).addSubgraph(new dev.kiln.graph.Subgraph(b, List.of(p), results)).build();
  }

  @Test
  void aFusedBodyEndingInTrailingReductionsHasACudaKernel() {
    Operation all = fusedReductions(dev.kiln.graph.Shape.of(4, 8), new String[] {"Sum"}, new long[][] {{0, 1}});
    assertTrue(CudaKernels.REGISTRY.hasKernel(all), "placement puts it on the device");
    Operation rows = fusedReductions(dev.kiln.graph.Shape.of(-1, 8), new String[] {"Mean", "Max"}, new long[][] {{1}, {-1}});
    assertTrue(CudaKernels.REGISTRY.hasKernel(rows), "an unknown batch dimension before the reduced axis");
    CudaCodegen.KernelSource k = CudaCodegen.generate(rows, List.of(new TensorType(DType.FLOAT32, dev.kiln.graph.Shape.of(5, 8))),
        rows.outputTypes().stream().map(t -> new TensorType(t.dtype(), dev.kiln.graph.Shape.of(5))).toList());
    assertEquals(new Launch(5, true, false), k.launch(), "one block per row");
  }

  @Test
  void aFusedBodyWithOtherReductionsRunsOnTheHost() {
    Operation leading = fusedReductions(dev.kiln.graph.Shape.of(4, 8), new String[] {"Sum"}, new long[][] {{0}});
    assertFalse(CudaKernels.REGISTRY.hasKernel(leading), "placement keeps it on the host");
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> CudaCodegen.generate(leading, types(leading.inputs()), leading.outputTypes()));
    assertEquals("Fused 'f': body node Sum 'r0' reduces axes [0] of [4,8], not trailing ones: the CUDA code generator"
        + " fuses reductions over trailing axes only (placement runs such a node on the host)", e.getMessage());

    Operation mixed = fusedReductions(dev.kiln.graph.Shape.of(4, 8), new String[] {"Sum", "Max"}, new long[][] {{1}, {0, 1}});
    assertFalse(CudaKernels.REGISTRY.hasKernel(mixed));
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> CudaCodegen.generate(mixed, types(mixed.inputs()), mixed.outputTypes()));
    assertEquals("Fused 'f': body node Max 'r1' reduces axes [0, 1] of [4,8] where Sum 'r0' reduces axes [1]: one fused"
        + " CUDA kernel reduces the same trailing axes for all (placement runs such a node on the host)", e.getMessage());

    Operation prod = fusedReductions(dev.kiln.graph.Shape.of(4, 8), new String[] {"Prod"}, new long[][] {{1}});
    assertFalse(CudaKernels.REGISTRY.hasKernel(prod));
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> CudaCodegen.generate(prod, types(prod.inputs()), prod.outputTypes()));
    assertEquals("Fused 'f': body node Prod 'r0' is not a float Sum, Mean, Max or Min: no CUDA kernel reduces it in a"
        + " fused body (placement runs such a node on the host)", e.getMessage());

    Operation unknownAfter = fusedReductions(dev.kiln.graph.Shape.of(8, -1), new String[] {"Sum"}, new long[][] {{0}});
    assertFalse(CudaKernels.REGISTRY.hasKernel(unknownAfter), "an unknown kept dimension after the reduced one may be more than 1");
  }

  static List<TensorType> types(List<Output> outs) {
    return outs.stream().map(Output::type).toList();
  }
}
