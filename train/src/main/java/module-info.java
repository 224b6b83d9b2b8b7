/** Kiln's training library: layers ({@code dev.kiln.nn}), losses, optimizers and checkpoints, MNIST/IDX data. */
module dev.kiln.train {
  requires transitive dev.kiln.runtime;
  requires com.google.common;
  requires me.tongfei.progressbar;

  exports dev.kiln.data;
  exports dev.kiln.nn;
  exports dev.kiln.train;
}
