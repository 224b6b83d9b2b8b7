package dev.kiln.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Collects {@link ApiCase}s of one group; the relevant words come last. */
final class CaseList {
  private final List<ApiCase> cases = new ArrayList<>();
  private String group = "";

  CaseList group(String name) {
    this.group = name;
    return this;
  }

  /** One API call that must throw. */
  CaseList one(String description, Function<ApiFixture, ApiCase.Call> setup, String... relevant) {
    cases.add(new ApiCase(group, description, List.of(relevant), true, setup, ApiCase.MUST_THROW));
    return this;
  }

  /** A short sequence (build, then run) in which some call must throw. */
  CaseList steps(String description, Function<ApiFixture, ApiCase.Call> setup, String... relevant) {
    cases.add(new ApiCase(group, description, List.of(relevant), false, setup, ApiCase.MUST_THROW));
    return this;
  }

  CaseList custom(String description, boolean singleCall, Function<ApiFixture, ApiCase.Call> setup,
      ApiCase.Expect expect, String... relevant) {
    cases.add(new ApiCase(group, description, List.of(relevant), singleCall, setup, expect));
    return this;
  }

  List<ApiCase> list() {
    return List.copyOf(cases);
  }
}
