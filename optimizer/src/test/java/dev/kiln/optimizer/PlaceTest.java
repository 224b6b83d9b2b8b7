package dev.kiln.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.OpRegistry;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Placement on device descriptions: text in, text out; no GPU needed. */
class PlaceTest {
  /**
   * A device with kernels for every op type but ArgMax and Pad, and none for Placeholder and NoOp (as a
   * GPU: feeds arrive on the host, and a NoOp carries no data).
   */
  private static final KernelRegistry KERNELS = allBut("ArgMax", "Pad", "Placeholder", "NoOp");

  /** A registry of every registered op type except {@code missing}, fusing nothing. */
  static KernelRegistry allBut(String... missing) {
    Set<String> types = new java.util.TreeSet<>(OpRegistry.types());
    types.removeAll(Set.of(missing));
    return KernelRegistry.of(types, Set.of());
  }

  @ParameterizedTest
  @ValueSource(strings = {"two_layer", "pins", "variables", "write_only"})
  void placesAsTheHandWrittenExpectation(String name) throws IOException {
    Graph g = Graph.parse(resource(name + ".kg"), name + ".kg");
    Program placed = new PassManager(List.of(new Place(DeviceDescription.fakeGpu(), KERNELS))).run(Program.ofSinks(g));
    assertEquals(resource(name + ".expected.kg"), placed.graph().toText());
  }

  @Test
  void countsNodesPerDeviceAndCopies() throws IOException {
    Graph g = Graph.parse(resource("two_layer.kg"));
    PassStatistics stats = new PassStatistics();
    new PassManager(List.of(new Place(DeviceDescription.fakeGpu(), KERNELS))).run(Program.ofSinks(g), stats);
    assertEquals(7, stats.get("place", "nodes on /gpu:0"));
    assertEquals(2, stats.get("place", "nodes on /cpu:0"));
    assertEquals(2, stats.get("place", "copies inserted"));
  }

  @Test
  void onTheCpuEverythingIsOnTheHostWithNoCopies() throws IOException {
    Graph g = Graph.parse(resource("two_layer.kg"));
    Program placed = new Place(DeviceDescription.CPU, allBut()).run(Program.ofSinks(g), new PassStatistics());
    assertEquals(g.size(), placed.graph().size());
    for (Operation op : placed.graph().operations()) {
      assertEquals("/cpu:0", op.device(), op.name());
    }
  }

  @Test
  void fetchesAndFeedsMapToThePlacedNodesAndDotColoursDevices() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    Output y = tf.withName("y").exp(x);
    Output z = tf.withName("z").argMax(tf.withName("e").expandDims(y, 0), 1);
    Program p = new Program(g, List.of(y, z), List.of(), Set.of(x));
    Program placed = new Place(DeviceDescription.fakeGpu(), KERNELS).run(p, new PassStatistics());
    assertEquals(List.of("y", "z"), placed.fetches().stream().map(Output::name).toList());
    assertEquals("/gpu:0", placed.fetches().get(0).op().device());
    assertEquals("/cpu:0", placed.fetches().get(1).op().device());
    // The view follows its input to the device; the host ArgMax reads a copy of it.
    assertEquals("/gpu:0", placed.graph().operation("e").device());
    assertEquals("CopyToHost", placed.graph().operation("z").input(0).op().type());
    assertEquals(Set.of("x"), placed.fed().stream().map(Output::name).collect(java.util.stream.Collectors.toSet()));
    String dot = placed.graph().toDot();
    assertTrue(dot.contains("\"y\" [label=\"y\\nExp\\nf32[2]\\n/gpu:0\", fillcolor="), dot);
    assertTrue(dot.contains("label=\"devices\""), dot);
  }

  @Test
  void aFusedNodeGoesWhereItsBodyHasAKernel() throws IOException {
    String text = """
        graph {
          %a = Placeholder() {dtype = f32, shape = [4]} : f32[4]
          %f = Fused(%a) : f32[4]
            subgraph (%p) -> (%r) {
              %p = Parameter() {dtype = f32, shape = [4]} : f32[4]
              %r = Relu(%p) : f32[4]
            }
        }
        """;
    Graph g = Graph.parse(text);
    Program placed = new Place(DeviceDescription.fakeGpu(), KERNELS).run(Program.ofSinks(g), new PassStatistics());
    assertEquals("/gpu:0", placed.graph().operation("f").device());
    assertEquals("CopyToDevice", placed.graph().operation("f").input(0).op().type());
    assertEquals(1, placed.graph().operation("f").subgraphs().size());
    Program onHost = new Place(DeviceDescription.fakeGpu(), allBut("Fused", "Placeholder")).run(Program.ofSinks(g), new PassStatistics());
    assertEquals("/cpu:0", onHost.graph().operation("f").device());
  }

  /** x -> Exp -> Tanh, fetched, on a device with the kernels of {@code kernels}. */
  private static Program placeChain(KernelRegistry kernels) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output y = tf.withName("t").tanh(tf.withName("e").exp(x));
    return new Place(DeviceDescription.fakeGpu(), kernels).run(new Program(g, List.of(y), List.of(), Set.of(x)),
        new PassStatistics());
  }

  @Test
  void aNodeWhoseTypeTheDeviceRegistryLacksStaysOnTheHost() {
    Program all = placeChain(allBut("Placeholder", "NoOp"));
    assertEquals("/gpu:0", all.graph().operation("e").device());
    assertEquals("/gpu:0", all.graph().operation("t").device());
    Program noExp = placeChain(allBut("Placeholder", "NoOp", "Exp"));
    assertEquals("/cpu:0", noExp.graph().operation("e").device(), "no Exp kernel on the device");
    assertEquals("/gpu:0", noExp.graph().operation("t").device());
    assertEquals("CopyToDevice", noExp.graph().operation("t").input(0).op().type());
  }

  @Test
  void aRegistryRefusesSomeNodesOfATypeItHas() {
    KernelRegistry floatExpOnly = new KernelRegistry() {
      @Override
      public Set<String> opTypes() {
        return Set.of("Exp", "Tanh");
      }

      @Override
      public boolean hasKernel(Operation op) {
        return switch (op.type()) {
          case "Tanh" -> true;
          case "Exp" -> op.output(0).dtype() == DType.FLOAT64;
          default -> false;
        };
      }

      @Override
      public boolean canFuse(Operation op) {
        return false;
      }
    };
    Program placed = placeChain(floatExpOnly);
    assertEquals("/cpu:0", placed.graph().operation("e").device(), "an f32 Exp, refused by the registry");
    assertEquals("/gpu:0", placed.graph().operation("t").device());
  }

  @Test
  void placeholdersGoWhereTheRegistrySays() {
    assertEquals("/cpu:0", placeChain(allBut("Placeholder")).graph().operation("x").device());
    assertEquals("/gpu:0", placeChain(allBut()).graph().operation("x").device(), "a device that registers feeds");
  }

  static String resource(String name) throws IOException {
    try (InputStream in = PlaceTest.class.getResourceAsStream("/place/" + name)) {
      if (in == null) {
        throw new IOException("missing test resource place/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
