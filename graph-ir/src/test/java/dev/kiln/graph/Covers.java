package dev.kiln.graph;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The op types whose inference a test method exercises. {@link InferenceSupport} checks after the
 * test that each of them was really built; {@link OpCoverageTest} checks every built-in is named.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface Covers {
  String[] value();
}
