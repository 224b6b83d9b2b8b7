package dev.kiln.data;

/**
 * The MNIST digits bundled with Kiln: 10,000 28x28 grey-scale images with labels 0-9, shuffled once
 * so that any prefix holds all ten classes. Pixels are scaled to [0, 1].
 */
public final class Mnist {
  public static final String IMAGES = "mnist/mnist10k-images-idx3-ubyte.gz";
  public static final String LABELS = "mnist/mnist10k-labels-idx1-ubyte.gz";
  public static final int CLASSES = 10;

  private Mnist() {}

  /** All 10,000 bundled digits, read from the class path. */
  public static Dataset load() {
    return fromIdx(IdxReader.readResource(IMAGES), IMAGES, IdxReader.readResource(LABELS), LABELS);
  }

  /** A dataset from MNIST-format image and label files; checks that they agree. */
  public static Dataset fromIdx(IdxFile images, String imagesSource, IdxFile labels, String labelsSource) {
    IdxReader.requireRank(images, 3, imagesSource, "images");
    IdxReader.requireRank(labels, 1, labelsSource, "labels");
    if (images.count() != labels.count()) {
      throw new IdxFormatException("MNIST: '" + imagesSource + "' holds " + images.count() + " images but '"
          + labelsSource + "' holds " + labels.count() + " labels");
    }
    int n = labels.count();
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = labels.get(i);
      if (y[i] >= CLASSES) {
        throw new IdxFormatException(
            "MNIST: label " + i + " of '" + labelsSource + "' is " + y[i] + ", not a digit 0-9");
      }
    }
    int size = images.itemSize();
    float[] x = new float[n * size];
    for (int i = 0; i < x.length; i++) {
      x[i] = images.get(i) / 255f;
    }
    return new Dataset(x, size, y);
  }
}
