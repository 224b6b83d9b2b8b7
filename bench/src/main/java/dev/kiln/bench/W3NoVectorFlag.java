package dev.kiln.bench;

import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Setup;

/**
 * The elementwise chain of {@link W3ElementwiseChain} in a JVM started without
 * {@code --add-modules jdk.incubator.vector}, as a user who passes no flags runs it: the fused
 * kernel's rows are plain loops C2 vectorizes itself. RunAll gives this class's fork its own JVM
 * arguments, without the module (the other class inherits it from the JVM that runs JMH).
 */
@Fork(value = 1, jvmArgs = {"--enable-native-access=ALL-UNNAMED"})
public class W3NoVectorFlag extends W3ElementwiseChain {
  @Override
  @Setup
  public void setUp() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
      throw new IllegalStateException("W3NoVectorFlag must run without --add-modules jdk.incubator.vector"
          + " (JMH's -jvmArgs/-jvmArgsAppend replace or extend this class's @Fork arguments)");
    }
    super.setUp();
  }
}
