package dev.kiln.bench;

import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Setup;

/**
 * W3 in a JVM started without {@code --add-modules jdk.incubator.vector}, as a user who passes no
 * flags runs it: the fused kernel's rows are plain loops C2 vectorizes itself. Beside
 * {@link W3ElementwiseChain} (which inherits the module from the JVM that runs JMH); RunAll gives
 * this class's fork its own JVM arguments, without the module.
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
