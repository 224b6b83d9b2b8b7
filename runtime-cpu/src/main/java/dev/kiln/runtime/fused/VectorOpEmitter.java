package dev.kiln.runtime.fused;

import dev.kiln.runtime.kernels.VectorMath;

import static dev.kiln.runtime.fused.FusedCodegen.TEMP;
import static dev.kiln.runtime.fused.FusedCodegen.vec;

import dev.kiln.graph.Primitive;
import java.util.EnumSet;
import java.util.Set;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The bytecode of FusedCodegen's ops, one case per {@link Primitive}: each as the Vector API calls VectorMath's rows make, in the same
 * order (arithmetic lanewise; exp, sigmoid and tanh by their fast formulas with the range check and
 * the careful fallback out of line), into the generated loop's locals.
 */
final class VectorOpEmitter {
  private VectorOpEmitter() {}

  // The classes and descriptors the generated code names.
  static final String OPS_CLASS = "dev/kiln/runtime/fused/FusedVectorOps";
  static final String FV = "Ljdk/incubator/vector/FloatVector;";
  static final String MASK = "Ljdk/incubator/vector/VectorMask;";
  static final String FV_CLASS = "jdk/incubator/vector/FloatVector";
  private static final String IV_CLASS = "jdk/incubator/vector/IntVector";
  private static final String MASK_CLASS = "jdk/incubator/vector/VectorMask";
  static final String SPECIES = "Ljdk/incubator/vector/VectorSpecies;";
  private static final String VEC = "Ljdk/incubator/vector/Vector;";
  private static final String IV = "Ljdk/incubator/vector/IntVector;";
  private static final String MATH = "dev/kiln/runtime/kernels/VectorMath";
  private static final String OPERATORS = "jdk/incubator/vector/VectorOperators";
  // Scratch locals of the transcendental ops, each always of one type (OK a mask, the others vectors).
  private static final int KR = 0;
  private static final int K = 1;
  private static final int R = 2;
  private static final int P = 3;
  private static final int E = 4;
  private static final int OK = 5;
  private static final int T = 6;

  private static int temp(int j) {
    return TEMP + j;
  }

  /** Emits {@code vec(out) = op(vec(ins))}. */
  static void op(MethodVisitor mv, FusedCodegen.Node n) {
    int[] in = n.ins();
    switch (n.op()) {
      case ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM -> {
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[1]));
        String name = switch (n.op()) {
          case ADD -> "add";
          case SUB -> "sub";
          case MUL -> "mul";
          case DIV -> "div";
          case MAXIMUM -> "max";
          default -> "min";
        };
        fv(mv, name, "(" + VEC + ")" + FV);
      }
      case NEG -> {
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        fv(mv, "neg", "()" + FV);
      }
      case SQUARE -> {
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        fv(mv, "mul", "(" + VEC + ")" + FV);
      }
      case EXP -> {
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        mv.visitVarInsn(Opcodes.ASTORE, temp(T));
        expOf(mv, true);
        // normal = |x| < 87; a vector with another lane blends in the careful formula (out of line)
        rangeCheck(mv, in[0], 87f, "expFix");
        mv.visitVarInsn(Opcodes.ALOAD, temp(E));
      }
      case SIGMOID -> {
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        fv(mv, "neg", "()" + FV);
        mv.visitVarInsn(Opcodes.ASTORE, temp(T));
        expOf(mv, true);
        // 1 / (e + 1)
        constant(mv, "ONE");
        mv.visitVarInsn(Opcodes.ALOAD, temp(E));
        mv.visitLdcInsn(1f);
        fv(mv, "add", "(F)" + FV);
        fv(mv, "div", "(" + VEC + ")" + FV);
        mv.visitVarInsn(Opcodes.ASTORE, temp(E));
        rangeCheck(mv, in[0], 87f, "sigmoidFix");
        mv.visitVarInsn(Opcodes.ALOAD, temp(E));
      }
      case TANH -> {
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        fv(mv, "add", "(" + VEC + ")" + FV);
        mv.visitVarInsn(Opcodes.ASTORE, temp(T));
        expOf(mv, false); // P = expm1(r), no +1 and no scaling
        // s = 2^k; u = fma(s, em1, s - 1); th = u / (u + 2), +-0 kept
        scale(mv);
        mv.visitVarInsn(Opcodes.ASTORE, temp(K));
        mv.visitVarInsn(Opcodes.ALOAD, temp(K));
        mv.visitVarInsn(Opcodes.ALOAD, temp(P));
        mv.visitVarInsn(Opcodes.ALOAD, temp(K));
        mv.visitLdcInsn(1f);
        fv(mv, "sub", "(F)" + FV);
        fv(mv, "fma", "(" + VEC + VEC + ")" + FV);
        mv.visitVarInsn(Opcodes.ASTORE, temp(R));
        mv.visitVarInsn(Opcodes.ALOAD, temp(R));
        mv.visitVarInsn(Opcodes.ALOAD, temp(R));
        mv.visitLdcInsn(2f);
        fv(mv, "add", "(F)" + FV);
        fv(mv, "div", "(" + VEC + ")" + FV);
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        comparison(mv, "EQ");
        mv.visitLdcInsn(0f);
        fv(mv, "compare", "(Ljdk/incubator/vector/VectorOperators$Comparison;F)" + MASK);
        fv(mv, "blend", "(" + VEC + MASK + ")" + FV);
        mv.visitVarInsn(Opcodes.ASTORE, temp(E));
        // |x| < 9, or the careful formula for the whole vector (it agrees with this one inside)
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        fv(mv, "abs", "()" + FV);
        comparison(mv, "LT");
        mv.visitLdcInsn(9f);
        fv(mv, "compare", "(Ljdk/incubator/vector/VectorOperators$Comparison;F)" + MASK);
        mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, MASK_CLASS, "allTrue", "()Z", false);
        Label fine = new Label();
        mv.visitJumpInsn(Opcodes.IFNE, fine);
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, MATH, "tanhCareful", "(" + FV + ")" + FV, false);
        mv.visitVarInsn(Opcodes.ASTORE, temp(E));
        mv.visitLabel(fine);
        mv.visitVarInsn(Opcodes.ALOAD, temp(E));
      }
      case ZEROS_LIKE, ONES_LIKE -> {
        mv.visitLdcInsn(n.op() == Primitive.ZEROS_LIKE ? 0f : 1f);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, OPS_CLASS, "constant", "(F)" + FV, false);
      }
      case GREATER, GREATER_EQUAL, LESS, LESS_EQUAL, EQUAL, NOT_EQUAL -> {
        // a mask (Java's float comparisons: false with NaN, but != true), read only by a Select
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        comparison(mv, switch (n.op()) {
          case GREATER -> "GT";
          case GREATER_EQUAL -> "GE";
          case LESS -> "LT";
          case LESS_EQUAL -> "LE";
          case EQUAL -> "EQ";
          default -> "NE";
        });
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[1]));
        fv(mv, "compare", "(Ljdk/incubator/vector/VectorOperators$Comparison;" + VEC + ")" + MASK);
      }
      case SELECT -> {
        // cond ? x : y = y with x's lanes where cond holds
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[2]));
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[1]));
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        fv(mv, "blend", "(" + VEC + MASK + ")" + FV);
      }
      case ABS -> {
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        fv(mv, "abs", "()" + FV);
      }
      case SQRT -> {
        // correctly rounded like the row's (float) Math.sqrt of the float widened to double
        mv.visitVarInsn(Opcodes.ALOAD, vec(in[0]));
        fv(mv, "sqrt", "()" + FV);
      }
      case FLOOR -> callOn(mv, in[0], "floor");
      case CEIL -> callOn(mv, in[0], "ceil");
      case ROUND -> callOn(mv, in[0], "rint");
      default -> throw new IllegalArgumentException("no generated form for " + n.op());
    }
    mv.visitVarInsn(Opcodes.ASTORE, vec(n.out()));
  }

  /**
   * The primitives {@link #op} emits on float32, each with the same lanes as the interpreter's row.
   * Log, sin and cos are not among them: called as per-vector forms of WideVectorMath's double-lane
   * formulas they give the row's bits but run slower than the row (the call is not inlined into the
   * loop and boxes its vectors), so bodies with them stay interpreted until they are emitted inline
   * like exp.
   */
  static final Set<Primitive> PRIMITIVES = EnumSet.of(Primitive.ADD, Primitive.SUB, Primitive.MUL, Primitive.DIV,
      Primitive.MAXIMUM, Primitive.MINIMUM, Primitive.NEG, Primitive.SQUARE, Primitive.EXP, Primitive.SIGMOID,
      Primitive.TANH, Primitive.ZEROS_LIKE, Primitive.ONES_LIKE, Primitive.SELECT, Primitive.GREATER,
      Primitive.GREATER_EQUAL, Primitive.LESS, Primitive.LESS_EQUAL, Primitive.EQUAL, Primitive.NOT_EQUAL,
      Primitive.ABS, Primitive.SQRT, Primitive.FLOOR, Primitive.CEIL, Primitive.ROUND);

  /** Primitives that expand to enough code that a loop takes only a few (see FusedCodegen.HEAVY_PER_LOOP). */
  static final Set<Primitive> HEAVY = EnumSet.of(Primitive.EXP, Primitive.SIGMOID, Primitive.TANH);

  /** Pushes {@code FusedVectorOps.name(vec(x))}. */
  private static void callOn(MethodVisitor mv, int x, String name) {
    mv.visitVarInsn(Opcodes.ALOAD, vec(x));
    mv.visitMethodInsn(Opcodes.INVOKESTATIC, OPS_CLASS, name, "(" + FV + ")" + FV, false);
  }

  /**
   * From t = temp(T): KR = t*log2e + R (k in its low bits), K = KR - R, R' = t - k ln2 (two steps),
   * P = r + r^2 (P0 + r (P1 + ...)) [+ 1]; with {@code full}, E = P * 2^k (exp(t)).
   */
  private static void expOf(MethodVisitor mv, boolean full) {
    mv.visitVarInsn(Opcodes.ALOAD, temp(T));
    constant(mv, "LOG2E");
    constant(mv, "ROUND");
    fv(mv, "fma", "(" + VEC + VEC + ")" + FV);
    mv.visitVarInsn(Opcodes.ASTORE, temp(KR));
    mv.visitVarInsn(Opcodes.ALOAD, temp(KR));
    mv.visitLdcInsn(12582912f); // VectorMath.ROUND_F
    fv(mv, "sub", "(F)" + FV);
    mv.visitVarInsn(Opcodes.ASTORE, temp(K));
    mv.visitVarInsn(Opcodes.ALOAD, temp(K));
    constant(mv, "NC2");
    mv.visitVarInsn(Opcodes.ALOAD, temp(K));
    constant(mv, "NC1");
    mv.visitVarInsn(Opcodes.ALOAD, temp(T));
    fv(mv, "fma", "(" + VEC + VEC + ")" + FV);
    fv(mv, "fma", "(" + VEC + VEC + ")" + FV);
    mv.visitVarInsn(Opcodes.ASTORE, temp(R));
    // r.fma(P4, P3).fma(r, P2).fma(r, P1).fma(r, P0).fma(r.mul(r), r)
    mv.visitVarInsn(Opcodes.ALOAD, temp(R));
    constant(mv, "P4");
    constant(mv, "P3");
    fv(mv, "fma", "(" + VEC + VEC + ")" + FV);
    for (String c : new String[] {"P2", "P1", "P0"}) {
      mv.visitVarInsn(Opcodes.ALOAD, temp(R));
      constant(mv, c);
      fv(mv, "fma", "(" + VEC + VEC + ")" + FV);
    }
    mv.visitVarInsn(Opcodes.ALOAD, temp(R));
    mv.visitVarInsn(Opcodes.ALOAD, temp(R));
    fv(mv, "mul", "(" + VEC + ")" + FV);
    mv.visitVarInsn(Opcodes.ALOAD, temp(R));
    fv(mv, "fma", "(" + VEC + VEC + ")" + FV);
    if (full) {
      mv.visitLdcInsn(1f);
      fv(mv, "add", "(F)" + FV);
      scale(mv);
      fv(mv, "mul", "(" + VEC + ")" + FV);
      mv.visitVarInsn(Opcodes.ASTORE, temp(E));
    } else {
      mv.visitVarInsn(Opcodes.ASTORE, temp(P));
    }
  }

  /** Pushes 2^k from KR: (bits(KR) + SCALE_BIAS) << 23 as a float vector. */
  private static void scale(MethodVisitor mv) {
    mv.visitVarInsn(Opcodes.ALOAD, temp(KR));
    fv(mv, "reinterpretAsInts", "()" + IV);
    mv.visitFieldInsn(Opcodes.GETSTATIC, MATH, "SCALE_BIAS", "I");
    mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, IV_CLASS, "add", "(I)" + IV, false);
    mv.visitFieldInsn(Opcodes.GETSTATIC, OPERATORS, "LSHL", "Ljdk/incubator/vector/VectorOperators$Binary;");
    mv.visitIntInsn(Opcodes.BIPUSH, 23);
    mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, IV_CLASS, "lanewise", "(Ljdk/incubator/vector/VectorOperators$Binary;I)" + IV, false);
    mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, IV_CLASS, "reinterpretAsFloats", "()" + FV, false);
  }

  /** If |x| < limit fails in some lane, E = FusedVectorOps.fix(x, E, inRange) (out of line, rare). */
  private static void rangeCheck(MethodVisitor mv, int x, float limit, String fix) {
    mv.visitVarInsn(Opcodes.ALOAD, vec(x));
    fv(mv, "abs", "()" + FV);
    comparison(mv, "LT");
    mv.visitLdcInsn(limit);
    fv(mv, "compare", "(Ljdk/incubator/vector/VectorOperators$Comparison;F)" + MASK);
    mv.visitVarInsn(Opcodes.ASTORE, temp(OK));
    mv.visitVarInsn(Opcodes.ALOAD, temp(OK));
    mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, MASK_CLASS, "allTrue", "()Z", false);
    Label fine = new Label();
    mv.visitJumpInsn(Opcodes.IFNE, fine);
    mv.visitVarInsn(Opcodes.ALOAD, vec(x));
    mv.visitVarInsn(Opcodes.ALOAD, temp(E));
    mv.visitVarInsn(Opcodes.ALOAD, temp(OK));
    mv.visitMethodInsn(Opcodes.INVOKESTATIC, OPS_CLASS, fix, "(" + FV + FV + MASK + ")" + FV, false);
    mv.visitVarInsn(Opcodes.ASTORE, temp(E));
    mv.visitLabel(fine);
  }

  static void fv(MethodVisitor mv, String name, String desc) {
    mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, FV_CLASS, name, desc, false);
  }

  private static void constant(MethodVisitor mv, String name) {
    mv.visitFieldInsn(Opcodes.GETSTATIC, MATH, name, FV);
  }

  static void species(MethodVisitor mv) {
    mv.visitFieldInsn(Opcodes.GETSTATIC, MATH, "F", SPECIES);
  }

  private static void comparison(MethodVisitor mv, String name) {
    mv.visitFieldInsn(Opcodes.GETSTATIC, OPERATORS, name, "Ljdk/incubator/vector/VectorOperators$Comparison;");
  }
}
