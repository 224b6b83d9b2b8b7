package dev.kiln.train;

import java.io.Console;
import java.lang.reflect.Method;
import java.util.Locale;
import java.util.Optional;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar over training steps (me.tongfei:progressbar on stderr) showing the latest loss. It is
 * shown only when stderr is a terminal, or when the system property {@code kiln.progress} is
 * {@code true}; {@code kiln.progress=false} turns it off. Hidden, every method is a no-op, so tests and
 * logs stay clean.
 */
public final class TrainingProgress implements AutoCloseable {
  private final Optional<ProgressBar> bar;

  private TrainingProgress(Optional<ProgressBar> bar) {
    this.bar = bar;
  }

  /** A bar for {@code totalSteps} steps, shown if {@link #enabledByDefault()}. */
  public static TrainingProgress start(String task, long totalSteps) {
    return start(task, totalSteps, enabledByDefault());
  }

  public static TrainingProgress start(String task, long totalSteps, boolean show) {
    if (!show) {
      return new TrainingProgress(Optional.empty());
    }
    return new TrainingProgress(Optional.of(new ProgressBarBuilder().setTaskName(task).setInitialMax(totalSteps)
        .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
        .setConsumer(new ConsoleProgressBarConsumer(System.err)).build()));
  }

  /** Whether bars are shown: the {@code kiln.progress} property if set, else whether there is a terminal. */
  public static boolean enabledByDefault() {
    String prop = System.getProperty("kiln.progress");
    if (prop != null) {
      return Boolean.parseBoolean(prop);
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
      b.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", loss));
      b.step();
    });
  }

  @Override
  public void close() {
    bar.ifPresent(ProgressBar::close);
  }
}
