package dev.kiln.onnx;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.Arrays;
import java.util.Map;

/**
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: the picked log-probability as a one-hot
 * product over the class axis (1), so targets equal to ignore_index (possibly outside 0..C-1) pick nothing
 * and weigh nothing.
 */
final class LossMappers {
  private LossMappers() {}

  static void register(Map<String, Mapper> m) {
    m.put("NegativeLogLikelihoodLoss", n -> n.out(nll(n, n.in(0))));
    m.put("SoftmaxCrossEntropyLoss", n -> {
      Output logProb = n.ops.logSoftmax(n.in(0), 1);
      n.out(0, nll(n, logProb));
      n.out(1, logProb);
    });
  }

  private static Output nll(Node n, Output input) {
    Ops o = n.ops;
    int r = n.rank(input);
    int classes = input.shape().dim(1);
    if (classes < 0) {
      throw n.unsupported("needs a static class count (axis 1), got " + input.shape());
    }
    Output target = n.in(1);
    String reduction = n.attrString("reduction", "mean");
    Output valid = null;
    if (n.hasAttr("ignore_index")) {
      Output ii = o.constant(n.attrInt("ignore_index", 0), target.dtype());
      valid = o.notEqual(target, ii);
      target = o.select(valid, target, o.zerosLike(target));
    }
    Output hot = o.oneHot(target, classes, 1, input.dtype(), 1, 0);
    int[] axis1 = {1};
    Output picked = o.reduceSum(o.mul(hot, input), axis1, false);
    Output w;
    if (n.has(2)) {
      w = o.gather(n.in(2), target, 0);
    } else {
      w = o.onesLike(picked);
    }
    if (valid != null) {
      w = o.select(valid, w, o.zerosLike(w));
    }
    Output loss = o.neg(o.mul(picked, w));
    int[] all = new int[r - 1];
    Arrays.setAll(all, i -> i);
    return switch (reduction) {
      case "none" -> loss;
      case "sum" -> o.reduceSum(loss, all, false);
      case "mean" -> o.div(o.reduceSum(loss, all, false), o.reduceSum(w, all, false));
      default -> throw n.error("reduction '" + reduction + "' is not one of none, sum, mean");
    };
  }

}
