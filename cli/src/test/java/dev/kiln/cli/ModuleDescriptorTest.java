package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Opens;
import java.net.URI;
import java.net.URL;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The CLI's compiled module descriptor: an application that exports nothing and opens its commands to picocli. */
class ModuleDescriptorTest {
  @Test
  void theCliIsAModuleThatExportsNothing() throws Exception {
    // The descriptor beside Kiln's classes (folder or jar), not the first module-info.class on the class path.
    URL location = Kiln.class.getProtectionDomain().getCodeSource().getLocation();
    String prefix = location.getPath().endsWith("/") ? "" : "jar:";
    String suffix = prefix.isEmpty() ? "" : "!/";
    ModuleDescriptor d;
    try (InputStream in = URI.create(prefix + location + suffix + "module-info.class").toURL().openStream()) {
      d = ModuleDescriptor.read(in);
    }
    assertEquals("dev.kiln.cli", d.name());
    assertEquals(Set.of(), d.exports());
    List<Opens> opens = List.copyOf(d.opens());
    assertEquals(1, opens.size(), d.opens().toString());
    assertEquals("dev.kiln.cli", opens.get(0).source());
    assertEquals(Set.of("info.picocli"), opens.get(0).targets());
  }
}
