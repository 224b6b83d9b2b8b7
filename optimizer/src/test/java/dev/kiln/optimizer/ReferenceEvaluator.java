package dev.kiln.optimizer;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.List;

/**
 * A plain-Java evaluator for the fold tests (the optimizer has no kernels): f32 and i32 elementwise
 * Add, Sub, Mul, Div, Neg, Square, Exp with NumPy broadcasting, Identity, Reshape and Sum over all
 * axes. Anything else throws, as a runtime's evaluator does for an op it cannot compute.
 */
final class ReferenceEvaluator implements ConstantEvaluator {
  int calls;

  @Override
  public List<Tensor> evaluate(Operation op, List<Tensor> in) {
    calls++;
    Shape out = op.outputType(0).shape();
    DType d = op.outputType(0).dtype();
    return List.of(switch (op.type()) {
      case "Identity", "Reshape" -> make(d, out, in.get(0).toDoubleArray());
      case "Neg", "Square", "Exp" -> {
        double[] a = in.get(0).toDoubleArray();
        for (int i = 0; i < a.length; i++) {
          a[i] = switch (op.type()) {
            case "Neg" -> -a[i];
            case "Square" -> a[i] * a[i];
            default -> Math.exp(a[i]);
          };
        }
        yield make(d, out, a);
      }
      case "Sum" -> {
        double s = 0;
        for (double v : in.get(0).toDoubleArray()) {
          s += v;
        }
        yield make(d, out, new double[] {s});
      }
      case "Add", "Sub", "Mul", "Div" -> binary(op.type(), d, out, in.get(0), in.get(1));
      default -> throw new UnsupportedOperationException("reference evaluator: no " + op.type());
    });
  }

  private static Tensor binary(String type, DType d, Shape out, Tensor a, Tensor b) {
    int n = (int) out.numElements();
    double[] r = new double[n];
    for (int i = 0; i < n; i++) {
      double x = a.getDouble(source(i, out, a.shape()));
      double y = b.getDouble(source(i, out, b.shape()));
      r[i] = switch (type) {
        case "Add" -> x + y;
        case "Sub" -> x - y;
        case "Mul" -> x * y;
        default -> {
          if (d == DType.INT32) {
            yield (int) x / (int) y; // throws ArithmeticException on division by zero, like the kernel
          }
          yield x / y;
        }
      };
    }
    return make(d, out, r);
  }

  /** The index in an operand of shape {@code s} that broadcasts to output element {@code i}. */
  private static int source(int i, Shape out, Shape s) {
    int idx = 0;
    int stride = 1;
    for (int k = out.rank() - 1, j = s.rank() - 1; k >= 0; k--, j--) {
      int coord = i % out.dim(k);
      i /= out.dim(k);
      if (j >= 0) {
        idx += (s.dim(j) == 1 ? 0 : coord) * stride;
        stride *= s.dim(j);
      }
    }
    return idx;
  }

  private static Tensor make(DType d, Shape s, double[] v) {
    int[] dims = s.dims();
    return switch (d) {
      case FLOAT32 -> {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
          f[i] = (float) v[i];
        }
        yield Tensor.of(f, dims);
      }
      case INT32 -> {
        int[] f = new int[v.length];
        for (int i = 0; i < v.length; i++) {
          f[i] = (int) v[i];
        }
        yield Tensor.of(f, dims);
      }
      default -> throw new UnsupportedOperationException("reference evaluator: dtype " + d);
    };
  }
}
