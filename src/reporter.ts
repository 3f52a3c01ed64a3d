/** How the cluster layer tells the user what it is doing; the cli decides how that looks. */
export interface Reporter {
  step(title: string): StepProgress;
  warn(message: string): void;
  info(message: string): void;
}

export interface StepProgress {
  update(detail: string): void;
  done(detail?: string): void;
  fail(error: unknown): void;
}

export const silentReporter: Reporter = {
  step: () => ({ update: () => undefined, done: () => undefined, fail: () => undefined }),
  warn: () => undefined,
  info: () => undefined,
};

/** Runs one titled step, reporting its start, end and failure. */
export async function runStep<T>(reporter: Reporter, title: string, work: (progress: StepProgress) => Promise<T>): Promise<T> {
  const progress = reporter.step(title);
  try {
    const result = await work(progress);
    progress.done();
    return result;
  } catch (error) {
    progress.fail(error);
    throw error;
  }
}
