/** Kiln's graph optimizer: a {@code Program} rewritten by the passes a {@code PassManager} runs. */
module dev.kiln.optimizer {
  requires transitive dev.kiln.graph;

  // Unqualified: Program, KernelRegistry and DeviceDescription appear in the device SPI
  // (dev.kiln.runtime.spi.Device), and PassManager is the API of `kiln opt`.
  exports dev.kiln.optimizer;
}
