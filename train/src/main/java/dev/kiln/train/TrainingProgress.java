package dev.kiln.train;

import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressState;

/**
 * A progress bar over training steps (me.tongfei:progressbar on stderr) showing the latest loss, e.g.
 * {@code epoch 2/10  37% [=======------------]  46/125  0.8 s, 1.4 s left  loss 0.4123}. It is shown
 * only when stderr is a terminal, or when the system property {@code kiln.progress} is {@code true};
 * {@code kiln.progress=false} turns it off. Hidden, every method is a no-op, so tests and logs stay clean.
 */
public final class TrainingProgress implements AutoCloseable {
  /** Columns kept for what follows the bar: steps, times and loss. */
  private static final int TAIL_ROOM = 48;

  private final Optional<ProgressBar> bar;
  private final Optional<OnceConsumer> consumer;

  private TrainingProgress(Optional<ProgressBar> bar, Optional<OnceConsumer> consumer) {
    this.bar = bar;
    this.consumer = consumer;
  }

  /** A bar for {@code totalSteps} steps, shown if {@link #enabledByDefault()}. */
  public static TrainingProgress start(String task, long totalSteps) {
    return start(task, totalSteps, enabledByDefault());
  }

  public static TrainingProgress start(String task, long totalSteps, boolean show) {
    return show ? start(task, totalSteps, System.err, -1) : new TrainingProgress(Optional.empty(), Optional.empty());
  }

  /** A bar drawn on {@code out}, {@code width} columns wide (the terminal's width when not positive). */
  static TrainingProgress start(String task, long totalSteps, PrintStream out, int width) {
    OnceConsumer consumer = new OnceConsumer(out, width);
    ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(totalSteps)
        .setUpdateIntervalMillis(250).setRenderer(new StepRenderer()).setConsumer(consumer).build();
    consumer.awaitFirstDraw();
    return new TrainingProgress(Optional.of(bar), Optional.of(consumer));
  }

  /** Whether bars are shown: the {@code kiln.progress} property if set, else whether there is a terminal. */
  public static boolean enabledByDefault() {
    Optional<Boolean> forced = TrainProperties.progress();
    if (forced.isPresent()) {
      return forced.get();
    }
    Console console = System.console();
    if (console == null) {
      return false;
    }
    // From JDK 22 System.console() exists even when redirected; isTerminal() tells them apart.
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return (Boolean) isTerminal.invoke(console);
    } catch (ReflectiveOperationException e) {
      return true;
    }
  }

  /** One step done, with its loss. */
  public void step(double loss) {
    bar.ifPresent(b -> {
      b.setExtraMessage(String.format(Locale.ROOT, "loss %.4f", loss));
      b.step();
    });
  }

  @Override
  public void close() {
    bar.ifPresent(ProgressBar::close);
    // The library ends the line only if its first draw happened before close(); end it otherwise.
    consumer.ifPresent(OnceConsumer::finish);
  }

  /**
   * The bar's line: task, percentage, bar, steps, time taken (tenths of a second, so short epochs do not
   * show 0:00:00) and left, and the latest loss, fitted into {@code width} columns.
   */
  static String line(String task, long done, long total, Duration elapsed, String message, int width) {
    String head = String.format(Locale.ROOT, "%s %3d%% [", task, total > 0 ? 100 * done / total : 0);
    String time = duration(elapsed);
    if (done > 0 && done < total) {
      time += ", " + duration(elapsed.multipliedBy(total - done).dividedBy(done)) + " left";
    }
    String tail = String.format(Locale.ROOT, "] %" + String.valueOf(total).length() + "d/%d  %s%s", done, total, time,
        message.isEmpty() ? "" : "  " + message);
    // Sized from the width alone (room for a typical tail), so the bar does not jump as the times change.
    int barWidth = Math.max(10, Math.min(30, width - head.length() - TAIL_ROOM));
    int full = total > 0 ? (int) (barWidth * Math.min(done, total) / total) : 0;
    String line = head + "=".repeat(full) + "-".repeat(barWidth - full) + tail;
    return line.length() > width ? line.substring(0, Math.max(0, width)) : line;
  }

  /** 0.4 s, 12.3 s, 1:15, 1:02:05. */
  static String duration(Duration d) {
    long millis = d.toMillis();
    long s = millis / 1000;
    if (s < 60) {
      return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }
    return s < 3600 ? String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  }

  /**
   * Renders {@link #line}; a state with no new step gets the previous line back unchanged, so that the
   * library's two renders of the final state on close print one line.
   */
  private static final class StepRenderer implements ProgressBarRenderer {
    private long lastDone = -1;
    private String lastLine = "";

    @Override
    public String render(ProgressState p, int maxLength) {
      if (p.getCurrent() != lastDone) {
        lastDone = p.getCurrent();
        lastLine = line(p.getTaskName(), p.getCurrent(), p.getMax(), p.getTotalElapsed(), p.getExtraMessage(),
            maxLength);
      }
      return lastLine;
    }
  }

  /** Prints a line only when it differs from the one before, and ends the bar's line exactly once. */
  private static final class OnceConsumer extends ConsoleProgressBarConsumer {
    private final PrintStream stream;
    private final CountDownLatch drawn = new CountDownLatch(1);
    private String last = "";
    private boolean finished;

    OnceConsumer(PrintStream out, int width) {
      super(out, width);
      this.stream = out;
    }

    @Override
    public synchronized void accept(String line) {
      if (!line.equals(last)) {
        last = line;
        super.accept(line);
        stream.flush();
      }
      drawn.countDown();
    }

    /**
     * Waits (briefly) for the library's first draw, which its background thread makes; a bar closed before
     * it would otherwise be drawn by that first-draw path, which does not end the line.
     */
    void awaitFirstDraw() {
      try {
        drawn.await(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() {
      finish();
    }

    synchronized void finish() {
      if (!finished) {
        finished = true;
        super.close();
      }
    }
  }
}
