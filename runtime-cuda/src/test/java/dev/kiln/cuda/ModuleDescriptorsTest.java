package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.Graph;
import dev.kiln.optimizer.Program;
import dev.kiln.runtime.Session;
import dev.kiln.train.Adam;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Exports;
import java.lang.module.ModuleDescriptor.Provides;
import java.lang.module.ModuleDescriptor.Requires;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The compiled module descriptors of the library modules (this module's test class path holds them all but
 * the CLI's): their names, what each exports, and that each service they provide is listed in
 * META-INF/services as well, for the class path users run on.
 */
class ModuleDescriptorsTest {
  private static final Map<String, Class<?>> LIBRARY_MODULES = Map.of(
      "dev.kiln.graph", Graph.class,
      "dev.kiln.optimizer", Program.class,
      "dev.kiln.runtime", Session.class,
      "dev.kiln.train", Adam.class,
      "dev.kiln.cuda", CudaKernels.class);

  @Test
  void eachLibraryModuleHasADescriptorExportingItsApiOnly() {
    Map<String, Set<String>> exports = new TreeMap<>();
    LIBRARY_MODULES.forEach((name, member) -> {
      ModuleDescriptor d = descriptor(member);
      assertEquals(name, d.name(), "module of " + member.getName());
      for (Exports e : d.exports()) {
        assertTrue(e.targets().isEmpty() || !e.targets().contains(name), "export to itself in " + name);
      }
      exports.put(name, d.exports().stream().map(Exports::source).collect(Collectors.toCollection(TreeSet::new)));
    });
    assertEquals(Map.of(
        "dev.kiln.graph", Set.of("dev.kiln.graph"),
        "dev.kiln.optimizer", Set.of("dev.kiln.optimizer"),
        "dev.kiln.runtime", Set.of("dev.kiln.runtime", "dev.kiln.runtime.plan", "dev.kiln.runtime.spi"),
        "dev.kiln.train", Set.of("dev.kiln.data", "dev.kiln.nn", "dev.kiln.train"),
        "dev.kiln.cuda", Set.of()), exports);
  }

  @Test
  void theSharedPlanLayerIsExportedToTheDeviceModuleOnly() {
    Exports plan = descriptor(Session.class).exports().stream()
        .filter(e -> e.source().equals("dev.kiln.runtime.plan")).findFirst().orElseThrow();
    assertEquals(Set.of("dev.kiln.cuda"), plan.targets());
  }

  @Test
  void theCudaModuleHasClassesOfItsOwnPackageOnly() throws IOException, URISyntaxException {
    Path classes = Path.of(CudaKernels.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Set<String> packages = new TreeSet<>();
    if (Files.isDirectory(classes)) {
      try (var files = Files.walk(classes)) {
        files.filter(f -> f.toString().endsWith(".class") && !f.getFileName().toString().equals("module-info.class"))
            .forEach(f -> packages.add(classes.relativize(f.getParent()).toString().replace(java.io.File.separatorChar, '.')));
      }
    } else {
      try (JarFile jar = new JarFile(classes.toFile())) {
        jar.stream().map(java.util.zip.ZipEntry::getName)
            .filter(n -> n.endsWith(".class") && !n.endsWith("module-info.class") && !n.startsWith("META-INF/"))
            .forEach(n -> packages.add(n.substring(0, n.lastIndexOf('/')).replace('/', '.')));
      }
    }
    assertEquals(Set.of("dev.kiln.cuda"), packages);
  }

  @Test
  void theVectorApiStaysOptionalAtRunTime() {
    Requires vector = descriptor(Session.class).requires().stream()
        .filter(r -> r.name().equals("jdk.incubator.vector")).findFirst().orElseThrow();
    assertEquals(Set.of(Requires.Modifier.STATIC), vector.modifiers());
  }

  @Test
  void servicesAreDeclaredInTheDescriptorAndInMetaInfServices() {
    Map<String, List<String>> provided = new TreeMap<>();
    Map<String, List<String>> listed = new TreeMap<>();
    LIBRARY_MODULES.values().forEach(member -> {
      for (Provides p : descriptor(member).provides()) {
        provided.put(p.service(), p.providers());
        listed.put(p.service(), read(member, "META-INF/services/" + p.service()).lines()
            .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList());
      }
    });
    assertEquals(Map.of(
        "dev.kiln.runtime.spi.HostRuntime", List.of("dev.kiln.runtime.CpuHostRuntime"),
        "dev.kiln.runtime.spi.DeviceProvider", List.of("dev.kiln.cuda.CudaDeviceProvider")), provided);
    assertEquals(provided, listed);
    Set<String> uses = descriptor(Session.class).uses();
    assertEquals(Set.of("dev.kiln.runtime.spi.HostRuntime", "dev.kiln.runtime.spi.DeviceProvider"), uses);
  }

  private static ModuleDescriptor descriptor(Class<?> member) {
    try (InputStream in = open(member, "module-info.class")) {
      return ModuleDescriptor.read(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Class<?> member, String entry) {
    try (InputStream in = open(member, entry)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An entry of the classes folder or jar that holds member (a reactor build may give either). */
  private static InputStream open(Class<?> member, String entry) throws IOException {
    Path location;
    try {
      location = Path.of(member.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    if (Files.isDirectory(location)) {
      Path file = location.resolve(entry);
      assertTrue(Files.isRegularFile(file), entry + " missing in " + location);
      return Files.newInputStream(file);
    }
    JarFile jar = new JarFile(location.toFile());
    var e = jar.getJarEntry(entry);
    assertTrue(e != null, entry + " missing in " + location);
    byte[] bytes;
    try (jar; InputStream in = jar.getInputStream(e)) {
      bytes = in.readAllBytes();
    }
    return new java.io.ByteArrayInputStream(bytes);
  }
}
