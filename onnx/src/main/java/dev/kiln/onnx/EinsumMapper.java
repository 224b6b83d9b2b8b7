package dev.kiln.onnx;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Einsum over explicit labels, each at most once per operand (no ellipsis, no diagonals): every operand
 * is transposed and expanded onto the union of the labels, the operands are multiplied (broadcasting), the
 * labels missing from the output are summed away and the rest put in the output's order.
 */
final class EinsumMapper {
  private EinsumMapper() {}

  static void map(Node n) {
    Ops o = n.ops;
    String eq = n.attrString("equation", "").replace(" ", "");
    if (eq.contains(".")) {
      throw n.unsupported("ellipsis (...) in the equation '" + eq + "' is not supported");
    }
    String[] sides = eq.split("->", -1);
    String[] terms = sides[0].split(",", -1);
    List<Output> xs = n.inputs();
    if (terms.length != xs.size()) {
      throw n.error("equation '" + eq + "' has " + terms.length + " operands, the node " + xs.size() + " inputs");
    }
    LinkedHashSet<Character> all = new LinkedHashSet<>();
    for (String t : terms) {
      for (char ch : t.toCharArray()) {
        all.add(ch);
      }
      if (t.chars().distinct().count() != t.length()) {
        throw n.unsupported("a label repeated within an operand (a diagonal) in '" + eq + "' is not supported");
      }
    }
    String out;
    if (sides.length > 1) {
      out = sides[1];
    } else {
      // Implicit output: the labels used once, in alphabetical order.
      StringBuilder b = new StringBuilder();
      all.stream().sorted().filter(ch -> sides[0].chars().filter(c -> c == ch).count() == 1).forEach(b::append);
      out = b.toString();
    }
    List<Character> labels = new ArrayList<>(all);
    Output product = null;
    for (int k = 0; k < xs.size(); k++) {
      String t = terms[k];
      Output x = xs.get(k);
      if (n.rank(x) != t.length()) {
        throw n.error("operand " + k + " '" + t + "' does not match the rank of " + x.shape());
      }
      // Order the operand's axes as in labels, then insert unit axes for the labels it lacks.
      List<Character> present = labels.stream().filter(ch -> t.indexOf(ch) >= 0).toList();
      int[] perm = present.stream().mapToInt(ch -> t.indexOf(ch)).toArray();
      Output y = isIdentity(perm) ? x : o.transpose(x, perm);
      for (int i = 0; i < labels.size(); i++) {
        if (t.indexOf(labels.get(i)) < 0) {
          y = o.expandDims(y, i);
        }
      }
      product = product == null ? y : o.mul(product, y);
    }
    int[] sum = java.util.stream.IntStream.range(0, labels.size()).filter(i -> out.indexOf(labels.get(i)) < 0).toArray();
    Output r = sum.length == 0 ? product : o.reduceSum(product, sum, false);
    List<Character> kept = labels.stream().filter(ch -> out.indexOf(ch) >= 0).toList();
    int[] perm = out.chars().map(ch -> kept.indexOf((char) ch)).toArray();
    if (Arrays.stream(perm).anyMatch(p -> p < 0)) {
      throw n.error("output labels '" + out + "' name labels no operand has");
    }
    n.out(isIdentity(perm) ? (r == xs.get(0) ? o.identity(r) : r) : o.transpose(r, perm));
  }

  private static boolean isIdentity(int[] perm) {
    for (int i = 0; i < perm.length; i++) {
      if (perm[i] != i) {
        return false;
      }
    }
    return true;
  }
}
