package dev.kiln.runtime.fused;

import dev.kiln.runtime.exec.RuntimeProperties;
import dev.kiln.runtime.kernels.VectorSupport;

import static dev.kiln.runtime.fused.VectorOpEmitter.FV;
import static dev.kiln.runtime.fused.VectorOpEmitter.FV_CLASS;
import static dev.kiln.runtime.fused.VectorOpEmitter.MASK;
import static dev.kiln.runtime.fused.VectorOpEmitter.OPS_CLASS;
import static dev.kiln.runtime.fused.VectorOpEmitter.SPECIES;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import dev.kiln.graph.Primitive;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Compiles a float Fused body to one generated loop: the whole body per vector of the block, its
 * intermediate values in vector registers, only the values the kernel keeps (results, reductions'
 * inputs) stored. The block interpreter runs a row per op over the block instead, storing and
 * reloading every intermediate; on a chain of ten ops (three of them transcendental) the generated
 * loop is about 1.7x faster (a single inlined Vector API loop runs at the speed of the same loop in C
 * with intrinsics).
 *
 * <p>A hidden class holds static loop methods over one block of the interpreter's value table
 * ({@code loop0(arr, off, n)}, ...), run through {@link FusedKernel.Instr}, so the block framework
 * (gathers, stores, reductions, the split over cores) is unchanged. The ops are emitted as Vector API
 * calls in the loop itself ({@link VectorOpEmitter}), the same calls in the same order as VectorMath's
 * rows, so both ways give the same bits. Small helper methods per op would be simpler, but C2 then
 * stops inlining at its node budget partway through a body of ten ops and boxes every vector that
 * crosses a call it did not inline (slower than the interpreter). Bodies with other ops or dtypes,
 * or over {@link #MAX_OPS} ops, stay with the interpreter; a Session turns this off with
 * {@code SessionOptions.FusedKernelOptions.generateLoops} (default {@code -Dkiln.fused.codegen}).
 */
public final class FusedCodegen {
  private FusedCodegen() {}

  private static final Logger LOG = Logger.getLogger(FusedCodegen.class.getName());
  /** Whether loops can be generated at all: the Vector API is present (a Session may still decline). */
  public static final boolean ENABLED = VectorSupport.AVAILABLE;

  /**
   * The primitives the generator handles on float32 (VectorOpEmitter emits each). Float comparisons
   * ({@link Primitive#isComparison}) among them give vector masks in the loop's locals, so they may
   * only be read by a Select's condition in the same loop (never stored, reduced or passed to a later
   * loop).
   */
  static final Set<Primitive> OPS = VectorOpEmitter.PRIMITIVES;

  /**
   * Bodies of more ops stay interpreted: the loop is one method, and C2 does not compile methods over
   * 8000 bytecodes (a chain of 1,000 ops would run in the bytecode interpreter).
   */
  public static final int MAX_OPS = 64;

  /** A body op: its primitive, its operands' value numbers and its result's. */
  record Node(Primitive op, int[] ins, int out) {}

  /** How the generated loop finds a value that no op of the list computes. */
  enum Source { BLOCK, UNIFORM }

  // Locals of run(Object[] arr, int[] off, int n): then three per value (array, offset, vector).
  private static final int ARR = 1;
  private static final int OFF = 2;
  private static final int N = 3;
  private static final int LEN = 4;
  private static final int I = 5;
  private static final int M = 6;
  static final int TEMP = 7; // 7 scratch locals of the transcendental ops
  private static final int BASE = 14;

  /** Transcendental ops per generated loop: more exceed what C2 inlines into one method (NodeCountInliningCutoff). */
  static final int HEAVY_PER_LOOP = RuntimeProperties.SYSTEM.fusedHeavyPerLoop();

  /**
   * The generated kernel for {@code nodes} (in order), reading the values {@code sources} names (a block
   * at arr[v] + off[v], or a single value there) and storing {@code kept}; null when a constraint
   * fails or generation fails. The ops are cut into loops of at most {@link #HEAVY_PER_LOOP}
   * transcendental ops each; a value one loop passes to a later one goes through its register
   * ({@code register[v]}, which must not be uniform or shared with another value that loop stores).
   */
  static Loops compile(List<Node> nodes, Source[] sources, int[] kept, boolean[] uniform, int[] register) {
    // Plans of other feed shapes (or recompiled plans) often hold the same body: one class for all.
    String key = key(nodes, sources, kept, uniform, register);
    Loops cached = CACHE.getIfPresent(key);
    if (cached != null) {
      return cached;
    }
    Loops made = generateLoops(nodes, sources, kept, uniform, register);
    if (made != null) {
      cached = CACHE.asMap().putIfAbsent(key, made);
    }
    return cached != null ? cached : made;
  }

  /**
   * Generated kernels by body (they hold no state: a loop reads and writes only its arguments, and
   * nothing of a plan), the least recently used dropped past {@link #CACHE_LIMIT} bodies: a dropped
   * hidden class is unloaded once no kernel runs it.
   */
  private static final int CACHE_LIMIT = 1024;
  private static final Cache<String, Loops> CACHE = CacheBuilder.newBuilder().maximumSize(CACHE_LIMIT).build();

  /** Everything the generated code depends on: the ops in order, the sources, the stored values and their registers. */
  private static String key(List<Node> nodes, Source[] sources, int[] kept, boolean[] uniform, int[] register) {
    StringBuilder b = new StringBuilder();
    for (Node n : nodes) {
      b.append(n.op()).append(Arrays.toString(n.ins())).append(n.out()).append(';');
    }
    b.append(Arrays.toString(sources)).append(Arrays.toString(kept));
    b.append(Arrays.toString(uniform)).append(Arrays.toString(register));
    return b.toString();
  }

  private static Loops generateLoops(List<Node> nodes, Source[] sources, int[] kept, boolean[] uniform,
      int[] register) {
    List<List<Node>> loops = new ArrayList<>();
    List<Node> current = new ArrayList<>();
    int heavy = 0;
    for (Node n : nodes) {
      boolean h = VectorOpEmitter.HEAVY.contains(n.op());
      if (h && heavy == HEAVY_PER_LOOP) {
        loops.add(current);
        current = new ArrayList<>();
        heavy = 0;
      }
      current.add(n);
      heavy += h ? 1 : 0;
    }
    loops.add(current);
    if (!masksStayInTheirLoop(loops, kept)) {
      return null;
    }
    List<int[]> stored = new ArrayList<>();
    for (int g = 0; g < loops.size(); g++) {
      List<Integer> out = new ArrayList<>();
      Set<Integer> registers = new HashSet<>();
      for (Node n : loops.get(g)) {
        int v = n.out();
        boolean later = contains(kept, v);
        for (int h = g + 1; h < loops.size() && !later; h++) {
          later = read(loops.get(h), v);
        }
        if (later) {
          if (uniform[v] || (register[v] >= 0 && !registers.add(register[v]))) {
            return null;
          }
          out.add(v);
        }
      }
      stored.add(out.stream().mapToInt(Integer::intValue).toArray());
    }
    try {
      byte[] bytes = generate(loops, sources, stored);
      MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClass(bytes, true);
      MethodHandle[] handles = new MethodHandle[loops.size()];
      for (int g = 0; g < handles.length; g++) {
        handles[g] = hidden.findStatic(hidden.lookupClass(), "loop" + g, LOOP_TYPE);
      }
      return new Loops(handles, stored.stream().flatMapToInt(Arrays::stream).toArray());
    } catch (Throwable e) {
      LOG.log(Level.WARNING, "Fused body not compiled to a loop; the interpreter runs it", e);
      return null;
    }
  }

  /** Whether every comparison's mask is read only by Selects' conditions of its own loop, and not kept. */
  private static boolean masksStayInTheirLoop(List<List<Node>> loops, int[] kept) {
    for (int g = 0; g < loops.size(); g++) {
      for (Node m : loops.get(g)) {
        if (!m.op().isComparison()) {
          continue;
        }
        if (contains(kept, m.out())) {
          return false;
        }
        for (int h = 0; h < loops.size(); h++) {
          for (Node n : loops.get(h)) {
            for (int k = 0; k < n.ins().length; k++) {
              if (n.ins()[k] == m.out() && (h != g || n.op() != Primitive.SELECT || k != 0)) {
                return false;
              }
            }
          }
        }
      }
    }
    return true;
  }

  private static final MethodType LOOP_TYPE = MethodType.methodType(void.class, Object[].class, int[].class, int.class);

  /**
   * Runs the generated loops in order. They are called through handles in an array, which C2 does not
   * treat as constants, so no loop is inlined into its caller (the block loop): each is compiled on
   * its own, with its own inlining budget; a call per loop and block costs nothing next to a block.
   * {@code stored}: the values the loops write into their registers (the kept ones and those one loop
   * passes to a later one), the only registers besides the framework's that need a block buffer.
   */
  record Loops(MethodHandle[] handles, int[] stored) implements FusedKernel.Instr {
    @Override
    public void run(Object[] arr, int[] off, int n) {
      for (MethodHandle h : handles) {
        try {
          h.invokeExact(arr, off, n);
        } catch (RuntimeException | Error e) {
          throw e;
        } catch (Throwable t) {
          throw new IllegalStateException(t);
        }
      }
    }
  }

  private static final String SELF = "dev/kiln/runtime/fused/FusedGenerated";
  private static final String RUN = "([Ljava/lang/Object;[II)V";

  private static byte[] generate(List<List<Node>> loops, Source[] sources, List<int[]> stored) {
    ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
      @Override
      protected String getCommonSuperClass(String a, String b) {
        return "java/lang/Object"; // no slot holds two reference types; nothing to load
      }
    };
    cw.visit(Opcodes.V21, Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, SELF, null, "java/lang/Object", null);

    for (int g = 0; g < loops.size(); g++) {
      List<Node> nodes = loops.get(g);
      int[] kept = stored.get(g);
      boolean[] computed = new boolean[sources.length];
      for (Node n : nodes) {
        computed[n.out()] = true;
      }
      // A value an earlier loop computed is a block in its register here.
      Source[] here = sources.clone();
      for (int h = 0; h < g; h++) {
        for (Node n : loops.get(h)) {
          here[n.out()] = Source.BLOCK;
        }
      }
      loop(cw, g, nodes, here, computed, kept);
    }
    cw.visitEnd();
    return cw.toByteArray();
  }

  /**
   * static loop{g}(arr, off, n): whole vectors; the masked rest in a method of its own (rest{g}), so
   * that the loop alone is compiled with every op inlined. Locals line up with run's (slot 0 unused).
   */
  private static void loop(ClassWriter cw, int g, List<Node> nodes, Source[] sources, boolean[] computed, int[] kept) {
    MethodVisitor mv = cw.visitMethod(Opcodes.ACC_STATIC, "loop" + g, "([Ljava/lang/Object;[II)V",
        null, null);
    mv.visitCode();
    shiftParameters(mv, false);
    prologue(mv, nodes, sources, computed, kept);
    mv.visitInsn(Opcodes.ICONST_0);
    mv.visitVarInsn(Opcodes.ISTORE, I);
    Label head = new Label();
    Label rest = new Label();
    mv.visitLabel(head);
    mv.visitVarInsn(Opcodes.ILOAD, I);
    mv.visitVarInsn(Opcodes.ILOAD, N);
    mv.visitVarInsn(Opcodes.ILOAD, LEN);
    mv.visitInsn(Opcodes.ISUB);
    mv.visitJumpInsn(Opcodes.IF_ICMPGT, rest);
    body(mv, nodes, sources, computed, kept, false);
    mv.visitVarInsn(Opcodes.ILOAD, I);
    mv.visitVarInsn(Opcodes.ILOAD, LEN);
    mv.visitInsn(Opcodes.IADD);
    mv.visitVarInsn(Opcodes.ISTORE, I);
    mv.visitJumpInsn(Opcodes.GOTO, head);
    mv.visitLabel(rest);
    Label done = new Label();
    mv.visitVarInsn(Opcodes.ILOAD, I);
    mv.visitVarInsn(Opcodes.ILOAD, N);
    mv.visitJumpInsn(Opcodes.IF_ICMPGE, done);
    mv.visitVarInsn(Opcodes.ALOAD, ARR);
    mv.visitVarInsn(Opcodes.ALOAD, OFF);
    mv.visitVarInsn(Opcodes.ILOAD, N);
    mv.visitVarInsn(Opcodes.ILOAD, I);
    mv.visitMethodInsn(Opcodes.INVOKESTATIC, SELF, "rest" + g, "([Ljava/lang/Object;[III)V", false);
    mv.visitLabel(done);
    mv.visitInsn(Opcodes.RETURN);
    mv.visitMaxs(0, 0);
    mv.visitEnd();

    MethodVisitor tv = cw.visitMethod(Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC, "rest" + g, "([Ljava/lang/Object;[III)V",
        null, null);
    tv.visitCode();
    shiftParameters(tv, true);
    prologue(tv, nodes, sources, computed, kept);
    tv.visitVarInsn(Opcodes.ILOAD, I);
    tv.visitVarInsn(Opcodes.ILOAD, N);
    tv.visitMethodInsn(Opcodes.INVOKESTATIC, OPS_CLASS, "tail", "(II)" + MASK, false);
    tv.visitVarInsn(Opcodes.ASTORE, M);
    body(tv, nodes, sources, computed, kept, true);
    tv.visitInsn(Opcodes.RETURN);
    tv.visitMaxs(0, 0);
    tv.visitEnd();
  }

  /** Moves a static method's parameters (arr 0, off 1, n 2[, i 3]) into run's slots (1, 2, 3[, 5]). */
  private static void shiftParameters(MethodVisitor mv, boolean withI) {
    if (withI) {
      mv.visitVarInsn(Opcodes.ILOAD, 3);
      mv.visitVarInsn(Opcodes.ISTORE, I);
    }
    mv.visitVarInsn(Opcodes.ILOAD, 2);
    mv.visitVarInsn(Opcodes.ISTORE, N);
    mv.visitVarInsn(Opcodes.ALOAD, 1);
    mv.visitVarInsn(Opcodes.ASTORE, OFF);
    mv.visitVarInsn(Opcodes.ALOAD, 0);
    mv.visitVarInsn(Opcodes.ASTORE, ARR);
  }

  /** Each block input's and kept value's array and offset, each single value broadcast, the vector length. */
  private static void prologue(MethodVisitor mv, List<Node> nodes, Source[] sources, boolean[] computed, int[] kept) {
    for (int v = 0; v < sources.length; v++) {
      boolean input = !computed[v] && read(nodes, v);
      if ((input && sources[v] == Source.BLOCK) || contains(kept, v)) {
        loadArrayAndOffset(mv, v);
      } else if (input && sources[v] == Source.UNIFORM) {
        mv.visitVarInsn(Opcodes.ALOAD, ARR);
        push(mv, v);
        mv.visitInsn(Opcodes.AALOAD);
        mv.visitTypeInsn(Opcodes.CHECKCAST, "[F");
        mv.visitVarInsn(Opcodes.ALOAD, OFF);
        push(mv, v);
        mv.visitInsn(Opcodes.IALOAD);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, OPS_CLASS, "broadcast", "([FI)" + FV, false);
        mv.visitVarInsn(Opcodes.ASTORE, vec(v));
      }
    }
    mv.visitMethodInsn(Opcodes.INVOKESTATIC, OPS_CLASS, "length", "()I", false);
    mv.visitVarInsn(Opcodes.ISTORE, LEN);
  }

  /** One vector of the body: load the block inputs, apply the ops, store the kept values. */
  private static void body(MethodVisitor mv, List<Node> nodes, Source[] sources, boolean[] computed, int[] kept,
      boolean masked) {
    for (int v = 0; v < sources.length; v++) {
      if (!computed[v] && sources[v] == Source.BLOCK && read(nodes, v)) {
        VectorOpEmitter.species(mv);
        mv.visitVarInsn(Opcodes.ALOAD, array(v));
        index(mv, v);
        if (masked) {
          mv.visitVarInsn(Opcodes.ALOAD, M);
          mv.visitMethodInsn(Opcodes.INVOKESTATIC, FV_CLASS, "fromArray", "(" + SPECIES + "[FI" + MASK + ")" + FV, false);
        } else {
          mv.visitMethodInsn(Opcodes.INVOKESTATIC, FV_CLASS, "fromArray", "(" + SPECIES + "[FI)" + FV, false);
        }
        mv.visitVarInsn(Opcodes.ASTORE, vec(v));
      }
    }
    for (Node n : nodes) {
      VectorOpEmitter.op(mv, n);
    }
    for (int v : kept) {
      mv.visitVarInsn(Opcodes.ALOAD, vec(v));
      mv.visitVarInsn(Opcodes.ALOAD, array(v));
      index(mv, v);
      if (masked) {
        mv.visitVarInsn(Opcodes.ALOAD, M);
        VectorOpEmitter.fv(mv, "intoArray", "([FI" + MASK + ")V");
      } else {
        VectorOpEmitter.fv(mv, "intoArray", "([FI)V");
      }
    }
  }

  private static boolean read(List<Node> nodes, int v) {
    for (Node n : nodes) {
      if (contains(n.ins(), v)) {
        return true;
      }
    }
    return false;
  }

  private static boolean contains(int[] a, int v) {
    for (int x : a) {
      if (x == v) {
        return true;
      }
    }
    return false;
  }

  private static void loadArrayAndOffset(MethodVisitor mv, int v) {
    mv.visitVarInsn(Opcodes.ALOAD, ARR);
    push(mv, v);
    mv.visitInsn(Opcodes.AALOAD);
    mv.visitTypeInsn(Opcodes.CHECKCAST, "[F");
    mv.visitVarInsn(Opcodes.ASTORE, array(v));
    mv.visitVarInsn(Opcodes.ALOAD, OFF);
    push(mv, v);
    mv.visitInsn(Opcodes.IALOAD);
    mv.visitVarInsn(Opcodes.ISTORE, offset(v));
  }

  /** Pushes offset(v) + i. */
  private static void index(MethodVisitor mv, int v) {
    mv.visitVarInsn(Opcodes.ILOAD, offset(v));
    mv.visitVarInsn(Opcodes.ILOAD, I);
    mv.visitInsn(Opcodes.IADD);
  }

  private static void push(MethodVisitor mv, int value) {
    if (value <= 5) {
      mv.visitInsn(Opcodes.ICONST_0 + value);
    } else if (value <= Byte.MAX_VALUE) {
      mv.visitIntInsn(Opcodes.BIPUSH, value);
    } else {
      mv.visitIntInsn(Opcodes.SIPUSH, value);
    }
  }

  private static int array(int v) {
    return BASE + 3 * v;
  }

  private static int offset(int v) {
    return BASE + 3 * v + 1;
  }

  static int vec(int v) {
    return BASE + 3 * v + 2;
  }
}
