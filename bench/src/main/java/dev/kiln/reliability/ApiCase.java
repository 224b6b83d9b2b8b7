package dev.kiln.reliability;

import java.util.List;
import java.util.function.Function;

/**
 * One bad API call: {@code setup} builds what the call needs on the fixture (valid calls only) and
 * returns the call itself. {@code singleCall}: the call is one API call, so if it throws, the graph must
 * have exactly the nodes it had before (a failed creation leaves no trace). {@code expect} judges the
 * outcome; by default the call must throw an accepted exception naming one of {@code relevant}.
 */
record ApiCase(String group, String description, List<String> relevant, boolean singleCall,
    Function<ApiFixture, Call> setup, Expect expect) {

  @FunctionalInterface
  interface Call {
    Object call() throws Exception;
  }

  @FunctionalInterface
  interface Expect {
    /** Exactly one of {@code result} (the call returned) and {@code thrown} is meaningful. */
    Verdict judge(Object result, Throwable thrown, List<String> relevant);
  }

  static final Expect MUST_THROW = (result, thrown, relevant) -> thrown == null
      ? Verdict.failed("silent success (no exception)", "returned " + show(result))
      : Classify.apiException(thrown, relevant);

  static String show(Object o) {
    if (o == null) {
      return "nothing";
    }
    if (o instanceof List<?> l && l.size() == 1) {
      return show(l.get(0));
    }
    return o.toString();
  }
}
