package dev.kiln.runtime;

import dev.kiln.runtime.blas.BlasChoice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BlasChoiceTest {
  private static final String INTEL = "GenuineIntel";
  private static final String AMD = "AuthenticAMD";

  @Test
  void autoTakesMklOnlyOnIntelAndOnlyWhenItIsOnTheClassPath() {
    assertEquals(BlasChoice.Decision.of(true), BlasChoice.decide("auto", true, INTEL, false));
    assertEquals(BlasChoice.Decision.of(false), BlasChoice.decide("auto", false, INTEL, false));
    assertEquals(BlasChoice.Decision.of(false), BlasChoice.decide("auto", true, AMD, false));
    assertEquals(BlasChoice.Decision.of(false), BlasChoice.decide("auto", true, "", false));
  }

  @Test
  void explicitChoicesWin() {
    assertEquals(BlasChoice.Decision.of(true), BlasChoice.decide("mkl", true, AMD, false));
    assertEquals(BlasChoice.Decision.of(true), BlasChoice.decide(" MKL ", true, AMD, false));
    assertEquals(BlasChoice.Decision.of(false), BlasChoice.decide("openblas", true, INTEL, false));
  }

  @Test
  void copyingCallsAreOpenBlas() {
    assertFalse(BlasChoice.decide("auto", true, INTEL, true).mkl());
    assertFalse(BlasChoice.decide("mkl", true, INTEL, true).mkl());
  }

  @Test
  void mklAskedForButMissingFallsBackToOpenBlasAndSaysWhatToAdd() {
    BlasChoice.Decision d = BlasChoice.decide("mkl", false, INTEL, false);
    assertFalse(d.mkl());
    assertEquals(Optional.of("-Dkiln.blas=mkl, but MKL is not on the class path (add the dev.kiln:runtime-cpu-mkl"
        + " dependency, type pom); products use OpenBLAS"), d.warning());
  }

  @Test
  void anUnknownValueIsReadAsAutoWithAWarning() {
    BlasChoice.Decision d = BlasChoice.decide("atlas", true, INTEL, false);
    assertTrue(d.mkl());
    assertEquals(Optional.of("-Dkiln.blas=atlas: expected mkl, openblas or auto; using auto"), d.warning());
    assertFalse(BlasChoice.decide("atlas", true, AMD, false).mkl());
  }

  @Test
  void mklIsFoundOnTheClassPathOnlyWhereItIs() throws Exception {
    // The tests have runtime-cpu-mkl; a loader that sees no jars at all has no MKL.
    assertTrue(BlasChoice.mklOnClassPath(BlasChoiceTest.class.getClassLoader()));
    try (URLClassLoader bare = new URLClassLoader(new URL[0], null)) {
      assertFalse(BlasChoice.mklOnClassPath(bare));
    }
  }
}
