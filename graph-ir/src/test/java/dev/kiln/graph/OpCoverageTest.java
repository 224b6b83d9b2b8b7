package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Every built-in op type has inference tests, and the built-in set is exactly the documented one. */
class OpCoverageTest {
  /** The op types issue 2 and the brief list, plus the helpers other ops need. */
  private static final Set<String> DOCUMENTED = Set.of(
      "Placeholder", "Parameter", "Const", "RandomNormal", "RandomUniform", "Fill", "Variable", "Assign",
      "AssignAdd", "AssignSub", "NoOp", "Identity", "StopGradient", "Reshape", "ReshapeLike", "ExpandDims",
      "Squeeze", "Neg", "Square", "Abs", "Sign", "Relu", "ZerosLike", "OnesLike", "Sqrt", "Rsqrt", "Reciprocal",
      "Exp", "Log", "Sin", "Cos", "Sigmoid", "Tanh", "LogicalNot", "Cast", "Add", "Mul", "Maximum", "Minimum",
      "Sub", "Div", "Pow", "Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd",
      "LogicalOr", "Select", "AddN", "MatMul", "Softmax", "LogSoftmax", "Sum", "Mean", "Max", "Min", "Prod",
      "ReduceSumLike", "ArgMax", "Transpose", "Concat", "Slice", "Pad", "OneHot", "Fused", "FusedMatMul", "Gemm",
      "CopyToDevice", "CopyToHost",
      "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad",
      "BiasAdd",
      "FusedConv2D");

  /** Built-ins are {@link RandomGraphs#builtinTypes}; other tests may register their own op types. */
  private static Set<String> builtins() {
    return new TreeSet<>(RandomGraphs.builtinTypes());
  }

  @Test
  void builtinOpsAreTheDocumentedSet() {
    assertEquals(new TreeSet<>(DOCUMENTED), builtins());
  }

  @Test
  void everyBuiltinOpHasAnInferenceTest() throws Exception {
    Set<String> covered = new TreeSet<>();
    for (Class<?> c : testClasses()) {
      for (Method m : c.getDeclaredMethods()) {
        Covers covers = m.getAnnotation(Covers.class);
        if (covers != null) {
          covered.addAll(Set.of(covers.value()));
        }
      }
    }
    Set<String> missing = builtins();
    missing.removeAll(covered);
    assertEquals(Set.of(), missing, "built-in op types without a @Covers inference test");
  }

  /** The compiled classes of this test package. */
  private static Set<Class<?>> testClasses() throws URISyntaxException, ClassNotFoundException {
    File dir = new File(OpCoverageTest.class.getResource("OpCoverageTest.class").toURI()).getParentFile();
    File[] files = dir.listFiles((d, n) -> n.endsWith("Test.class"));
    assertNotNull(files);
    Set<Class<?>> out = new java.util.HashSet<>();
    for (File f : files) {
      String n = f.getName();
      out.add(Class.forName("dev.kiln.graph." + n.substring(0, n.length() - ".class".length())));
    }
    return out;
  }
}
