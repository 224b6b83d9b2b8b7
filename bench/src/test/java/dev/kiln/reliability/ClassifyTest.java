package dev.kiln.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/** The campaigns' judgement of exceptions: by kind, throw site and message content, not by wording. */
class ClassifyTest {
  private static Throwable thrown(Runnable r) {
    try {
      r.run();
    } catch (Throwable t) {
      return t;
    }
    throw new AssertionError("nothing thrown");
  }

  @Test
  void rawJdkExceptionsAndErrorsAreWrong() {
    int[] a = new int[3];
    Verdict aioobe = Classify.apiException(thrown(() -> a[a.length] = 1), List.of());
    assertEquals("raw ArrayIndexOutOfBoundsException", aioobe.category());
    Verdict soe = Classify.apiException(new StackOverflowError(), List.of());
    assertEquals("StackOverflowError", soe.category());
    Verdict overflow = Classify.apiException(thrown(() -> Math.multiplyExact(1 << 30, 4)), List.of());
    assertEquals("raw ArithmeticException", overflow.category());
    int zero = a[0];
    Verdict division = Classify.apiException(thrown(() -> a[1] = 1 / zero), List.of());
    assertEquals("raw ArithmeticException", division.category());
  }

  @Test
  void anArithmeticExceptionKilnThrowsWithItsOwnMessageIsJudgedByItsMessage() {
    Throwable e = thrown(() -> {
      throw new ArithmeticException("Div 'd': integer division by zero");
    });
    assertTrue(Classify.apiException(e, List.of("Div")).handled());
  }

  @Test
  void aJvmNullPointerMessageIsWrongAnExplicitOneIsHandled() {
    String none = null;
    Verdict jvm = Classify.apiException(thrown(() -> none.length()), List.of("length"));
    assertEquals("NullPointerException with a JVM message", jvm.category());
    Verdict explicit = Classify.apiException(thrown(() -> Objects.requireNonNull(none, "graph is null")), List.of("graph"));
    assertTrue(explicit.handled(), explicit.toString());
  }

  @Test
  void anIndexCheckLeakingFromTheJdkIsWrongOneMadeOnPurposeIsHandled() {
    Verdict leaked = Classify.apiException(thrown(() -> List.of(1, 2).get(5)), List.of("5"));
    assertFalse(leaked.handled());
    assertTrue(leaked.category().startsWith("JDK IndexOutOfBoundsException escaped from"), leaked.category());
    Verdict checked = Classify.apiException(thrown(() -> Objects.checkIndex(5, 2)), List.of("5"));
    assertTrue(checked.handled(), checked.toString());
  }

  @Test
  void theMessageMustNameSomethingRelevantInAnyWording() {
    Throwable e = thrown(() -> {
      throw new IllegalArgumentException("MatMul 'mm': INNER dimensions differ: [2,3] x [4,2]");
    });
    assertTrue(Classify.apiException(e, List.of("[4,2]", "inner")).handled());
    assertEquals("message names nothing relevant", Classify.apiException(e, List.of("transpose_a")).category());
    Throwable empty = thrown(() -> {
      throw new IllegalStateException("  ");
    });
    assertTrue(Classify.apiException(empty, List.of()).category().startsWith("empty message"));
  }

  @Test
  void aReaderMessageMustNameTheFileAndNotEndInNull() {
    Throwable named = new java.io.UncheckedIOException("cannot read IDX file 'data/m1.idx.gz': truncated", new java.io.IOException());
    assertTrue(Classify.readerException(named, "m1.idx.gz").handled());
    assertEquals("message names nothing relevant",
        Classify.readerException(new IllegalArgumentException("truncated header"), "m1.idx.gz").category());
    Throwable nul = new java.io.UncheckedIOException("cannot read IDX file 'm1.idx.gz': null", new java.io.EOFException());
    assertEquals("message ends in 'null' (a wrapped exception had no message)", Classify.readerException(nul, "m1.idx.gz").category());
  }

  @Test
  void aCheckRecordsTalliesCategoriesAndExamples() {
    Check c = new Check("t");
    c.record("a", Verdict.handled("fine"));
    c.record("b", Verdict.failed("silent success (no exception)", "returned x"));
    c.record("c", Verdict.failed("silent success (no exception)", "returned y"));
    assertEquals(3, c.tried());
    assertEquals(1, c.handled());
    assertEquals(2, c.failureCounts().get("silent success (no exception)"));
    assertEquals(List.of("b  =>  returned x", "c  =>  returned y"), c.examples("silent success (no exception)"));
  }
}
