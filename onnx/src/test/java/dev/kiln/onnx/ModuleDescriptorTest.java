package dev.kiln.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URI;
import java.net.URL;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The onnx module exports its API package only; the generated protobuf classes stay internal. */
class ModuleDescriptorTest {
  @Test
  void exportsOnlyTheApi() throws Exception {
    URL location = OnnxModel.class.getProtectionDomain().getCodeSource().getLocation();
    String prefix = location.getPath().endsWith("/") ? "" : "jar:";
    String suffix = prefix.isEmpty() ? "" : "!/";
    ModuleDescriptor d;
    try (InputStream in = URI.create(prefix + location + suffix + "module-info.class").toURL().openStream()) {
      d = ModuleDescriptor.read(in);
    }
    assertEquals("dev.kiln.onnx", d.name());
    assertEquals(Set.of("dev.kiln.onnx"), d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()));
    Set<String> requires = d.requires().stream().map(ModuleDescriptor.Requires::name).collect(Collectors.toSet());
    assertTrue(requires.containsAll(Set.of("dev.kiln.runtime", "com.google.protobuf")), requires.toString());
  }
}
