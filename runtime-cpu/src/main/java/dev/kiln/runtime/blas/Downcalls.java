package dev.kiln.runtime.blas;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/** java.lang.foreign reached reflectively, so that this class compiles for Java 21. */
public final class Downcalls {
  private Downcalls() {}

  private static final String PKG = "java.lang.foreign.";

  private static Class<?> type(String name) throws ClassNotFoundException {
    return Class.forName(PKG + name);
  }

  private static Object layout(String name) throws ReflectiveOperationException {
    return type("ValueLayout").getField(name).get(null);
  }

  private static Object linker() throws ReflectiveOperationException {
    return type("Linker").getMethod("nativeLinker").invoke(null);
  }

  /** A symbol of a library (searched with its dependencies), or of libc when library is null. */
  private static Object symbol(Path library, String name) throws ReflectiveOperationException {
    Class<?> lookupType = type("SymbolLookup");
    Object lookup;
    if (library == null) {
      lookup = type("Linker").getMethod("defaultLookup").invoke(linker());
    } else {
      Object arena = type("Arena").getMethod("global").invoke(null);
      lookup = lookupType.getMethod("libraryLookup", Path.class, type("Arena")).invoke(null, library, arena);
    }
    Optional<?> found = (Optional<?>) lookupType.getMethod("find", String.class).invoke(lookup, name);
    return found.orElseThrow(() -> new NoSuchMethodException("native symbol " + name));
  }

  /** A downcall handle for a function of native layouts; critical ones may take heap segments. */
  private static MethodHandle downcall(Object symbol, Object result, Object[] args, boolean critical)
      throws ReflectiveOperationException {
    Class<?> layoutType = type("MemoryLayout");
    Class<?> fdType = type("FunctionDescriptor");
    Object layouts = Array.newInstance(layoutType, args.length);
    for (int i = 0; i < args.length; i++) {
      Array.set(layouts, i, args[i]);
    }
    Object fd = result == null
        ? fdType.getMethod("ofVoid", layouts.getClass()).invoke(null, layouts)
        : fdType.getMethod("of", layoutType, layouts.getClass()).invoke(null, result, layouts);
    Class<?> optionType = type("Linker$Option");
    Object options = Array.newInstance(optionType, critical ? 1 : 0);
    if (critical) {
      Array.set(options, 0, optionType.getMethod("critical", boolean.class).invoke(null, true));
    }
    return (MethodHandle) type("Linker")
        .getMethod("downcallHandle", type("MemorySegment"), fdType, options.getClass())
        .invoke(linker(), symbol, fd, options);
  }

  /**
   * Binds {@code name} to a handle of exactly {@code javaType}, whose parameters are int, float,
   * double or primitive arrays; arrays are passed as heap segments (no copy) to a critical downcall.
   */
  public static MethodHandle critical(Path library, String name, MethodType javaType) throws ReflectiveOperationException {
    if (Runtime.version().feature() < 22) {
      throw new NoSuchMethodException("critical downcalls with heap arrays need JDK 22+");
    }
    Class<?> segment = type("MemorySegment");
    Object[] args = new Object[javaType.parameterCount()];
    for (int i = 0; i < args.length; i++) {
      args[i] = layoutOf(javaType.parameterType(i));
    }
    Class<?> r = javaType.returnType();
    MethodHandle h = downcall(symbol(library, name), r == void.class ? null : layoutOf(r), args, true);
    for (int i = 0; i < args.length; i++) {
      Class<?> p = javaType.parameterType(i);
      if (p.isArray()) {
        MethodHandle ofArray = MethodHandles.publicLookup()
            .findStatic(segment, "ofArray", MethodType.methodType(segment, p));
        h = MethodHandles.filterArguments(h, i, ofArray);
      }
    }
    return h.asType(javaType);
  }

  /**
   * As {@link #critical}, but each array parameter of {@code javaType} is followed by an int: the
   * element offset into that array at which the native function's pointer starts (a slice of the
   * heap segment), so that one array can hold many operands, e.g. the matrices of a batch.
   */
  public static MethodHandle criticalWithOffsets(Path library, String name, MethodType javaType)
      throws ReflectiveOperationException {
    if (Runtime.version().feature() < 22) {
      throw new NoSuchMethodException("critical downcalls with heap arrays need JDK 22+");
    }
    Class<?> segment = type("MemorySegment");
    Object[] args = new Object[javaType.parameterCount()];
    for (int i = 0; i < args.length; i++) {
      args[i] = layoutOf(javaType.parameterType(i));
    }
    Class<?> r = javaType.returnType();
    MethodHandle h = downcall(symbol(library, name), r == void.class ? null : layoutOf(r), args, true);
    MethodHandle asSlice = MethodHandles.publicLookup()
        .findVirtual(segment, "asSlice", MethodType.methodType(segment, long.class));
    MethodHandle toBytes = MethodHandles.lookup().findStatic(Downcalls.class, "bytes",
        MethodType.methodType(long.class, int.class, int.class));
    MethodType withOffsets = javaType;
    // From the last parameter back, so that the indices of those before stay valid.
    for (int i = args.length - 1; i >= 0; i--) {
      Class<?> p = javaType.parameterType(i);
      if (!p.isArray()) {
        continue;
      }
      MethodHandle ofArray = MethodHandles.publicLookup()
          .findStatic(segment, "ofArray", MethodType.methodType(segment, p));
      int size = p == float[].class || p == int[].class ? 4 : p == double[].class || p == long[].class ? 8 : 1;
      MethodHandle slice = MethodHandles.filterArguments(asSlice, 0, ofArray); // (array, long bytes)
      slice = MethodHandles.filterArguments(slice, 1, MethodHandles.insertArguments(toBytes, 1, size));
      h = MethodHandles.collectArguments(h, i, slice); // (..., array, int offset, ...)
      withOffsets = withOffsets.insertParameterTypes(i + 1, int.class);
    }
    return h.asType(withOffsets);
  }

  private static long bytes(int elements, int size) {
    return (long) elements * size;
  }

  private static Object layoutOf(Class<?> p) throws ReflectiveOperationException {
    return p == int.class ? layout("JAVA_INT") : p == float.class ? layout("JAVA_FLOAT")
        : p == double.class ? layout("JAVA_DOUBLE") : layout("ADDRESS");
  }

  /** libc setenv(name, value, 1); false if it reported failure. */
  public static boolean setenv(String name, String value) throws ReflectiveOperationException {
    MethodHandle h = critical(null, "setenv", MethodType.methodType(int.class, byte[].class, byte[].class, int.class));
    try {
      return (int) h.invokeExact(cString(name), cString(value), 1) == 0;
    } catch (Throwable t) {
      throw Blas.rethrow(t);
    }
  }

  /** openblas_get_corename(), which the JavaCPP preset does not map. */
  static String coreName(Path library) throws ReflectiveOperationException {
    MethodHandle h = downcall(symbol(library, "openblas_get_corename"), layout("ADDRESS"), new Object[0], false);
    try {
      Object address = h.invoke();
      Class<?> segment = type("MemorySegment");
      Object sized = segment.getMethod("reinterpret", long.class).invoke(address, 64L);
      return (String) segment.getMethod("getString", long.class).invoke(sized, 0L);
    } catch (ReflectiveOperationException e) {
      throw e;
    } catch (Throwable t) {
      throw Blas.rethrow(t);
    }
  }

  private static byte[] cString(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return java.util.Arrays.copyOf(b, b.length + 1);
  }
}
