package dev.kiln.runtime;

import dev.kiln.runtime.exec.KernelProfile;
import dev.kiln.runtime.exec.RuntimeProperties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The runtime's system properties: typed, with their defaults, and the per-Session options they override. */
class RuntimePropertiesTest {
  @Test
  void unsetPropertiesGiveTheDefaults() {
    RuntimeProperties p = RuntimeProperties.read(name -> null);
    assertEquals(new RuntimeProperties("auto", false, 1L << 22, OptionalLong.empty(), OptionalInt.empty(), 1 << 20,
        false, true, 256, 3, 1024, 4096, false, 0, true, "kiln", 1L << 22, 50, false), p);
  }

  @Test
  void setPropertiesOverrideTheDefaults() {
    Map<String, String> set = Map.ofEntries(Map.entry("kiln.blas", "openblas"), Map.entry("kiln.blas.copying", "true"),
        Map.entry("kiln.blas.singleThreadBelow", "0"), Map.entry("kiln.matmul.javaBelow", "100"),
        Map.entry("kiln.parallel.minElements", "0x100"), Map.entry("kiln.columnSum.minSplit", "7"),
        Map.entry("kiln.vector.disable", "TRUE"), Map.entry("kiln.fused.codegen", "false"),
        Map.entry("kiln.fused.codegenMinElements", "1"), Map.entry("kiln.fused.heavyPerLoop", "2"),
        Map.entry("kiln.fused.block", "512"), Map.entry("kiln.fused.generatedBlock", "2048"),
        Map.entry("kiln.profile", "true"), Map.entry("kiln.profile.skip", "5"), Map.entry("kiln.cuda.graphs", "false"),
        Map.entry("kiln.blas.threads", "openblas"), Map.entry("kiln.blas.splitAbove", "0"),
        Map.entry("kiln.parallel.spinMicros", "-1"), Map.entry("kiln.dnnl.disable", "true"));
    RuntimeProperties p = RuntimeProperties.read(set::get);
    assertEquals(new RuntimeProperties("openblas", true, 0, OptionalLong.of(100), OptionalInt.of(256), 7, true, false,
        1, 2, 512, 2048, true, 5, false, "openblas", 0, -1, true), p);
  }

  @Test
  void aMalformedValueGivesTheDefault() {
    Map<String, String> set = Map.of("kiln.fused.block", "big", "kiln.fused.codegen", "maybe", "kiln.matmul.javaBelow", "1e3");
    RuntimeProperties p = RuntimeProperties.read(set::get);
    assertEquals(1024, p.fusedBlock());
    assertTrue(p.fusedCodegen());
    assertEquals(OptionalLong.empty(), p.matmulJavaBelow());
  }

  @Test
  void theSessionOptionsDefaultsComeFromTheProperties() {
    SessionOptions d = SessionOptions.defaults();
    assertEquals(RuntimeProperties.SYSTEM.profile(), d.profileKernels());
    assertEquals(RuntimeProperties.SYSTEM.graphReplay(), d.graphReplay());
    SessionOptions o = SessionOptions.builder().profileKernels(true).graphReplay(false).framesPerPlan(2).build();
    assertTrue(o.profileKernels());
    assertFalse(o.graphReplay());
    assertEquals("SessionOptions(optimize=true, framesPerPlan=2, maxCachedPlans=1024, profileKernels=true, graphReplay=false)",
        o.toString());
  }

  @Test
  void onlyASessionThatAsksForItProfilesItsKernels() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("profiledX", DType.FLOAT32, Shape.of(2));
    Output y = tf.withName("profiledSquare").square(x);
    Output z = tf.withName("unprofiledNeg").neg(x);
    SessionOptions plain = SessionOptions.builder().device("/cpu:0").optimize(false).profileKernels(false).build();
    SessionOptions profiled = SessionOptions.builder().device("/cpu:0").optimize(false).profileKernels(true).build();
    Tensor two = Tensor.of(new float[] {1, 2}, 2);
    try (Session s = new Session(g, profiled); Session t = new Session(g, plain)) {
      assertEquals(4f, ((float[]) dev.kiln.graph.HostBuffers.array(s.runner().feed(x, two).fetch(y).run().get(0)))[1]);
      assertEquals(-2f, ((float[]) dev.kiln.graph.HostBuffers.array(t.runner().feed(x, two).fetch(z).run().get(0)))[1]);
    }
    assertTrue(KernelProfile.labels().stream().anyMatch(l -> l.contains(" Square profiledSquare ")), KernelProfile.labels()::toString);
    assertFalse(KernelProfile.labels().stream().anyMatch(l -> l.contains("unprofiledNeg")), KernelProfile.labels()::toString);
  }
}
