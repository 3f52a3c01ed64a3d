import type { Reporter, StepProgress } from '../reporter.js';
import { formatDuration } from '../spec/duration.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Without a terminal, a running step prints a line this often, so a log (CI) never goes quiet for more
 * than 20 s during long work such as compiling Kubernetes, and nobody mistakes it for a hang.
 */
export const HEARTBEAT_MS = 15_000;

/** 4.2s under a minute (steps are mostly short), 3m12s above. */
function elapsed(since: number): string {
  const ms = Date.now() - since;
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms);
}

/**
 * Step progress on stderr (stdout stays for results and JSON). On a terminal: a live line with a spinner,
 * the step's latest detail and its time. Otherwise (a log): one line per finished step, and for a step
 * still running a line every HEARTBEAT_MS with what it is doing (`… compile Kubernetes v1.34.4 —
 * kube-apiserver (4/10), 3m12s`).
 *
 * Kept rather than replaced by a library: ora, listr2, cli-progress and @clack/prompts were weighed.
 * listr2 wants to own the list of tasks and run them itself, while kiab's steps are started deep in the
 * cluster layer through the injected Reporter; ora and @clack's spinners print nothing periodic without a
 * terminal; cli-progress draws bars with known totals. Each would still need the heartbeat below.
 */
export function terminalReporter(stream: NodeJS.WriteStream = process.stderr, options: { quiet?: boolean; timings?: boolean } = {}): Reporter {
  const live = stream.isTTY === true && !options.quiet;
  const columns = (): number => (stream.columns ?? 100) - 1;
  // Steps can run side by side (the box beside the machines): the live line shows the latest one running.
  const running: object[] = [];
  return {
    step(title: string): StepProgress {
      const self = {};
      running.push(self);
      const start = Date.now();
      let detail = '';
      // With timings, each phase of a step (its details in turn) gets a line with its own duration.
      let phaseStart = start;
      const endPhase = (): void => {
        if (!options.timings || options.quiet || !detail) return;
        stream.write(`${live ? '\r\x1b[2K' : ''}  · ${detail.slice(0, 200)} (${elapsed(phaseStart)})\n`);
        phaseStart = Date.now();
      };
      let frame = 0;
      const describe = (): string => `${title}${detail ? ` — ${detail}` : ''}`;
      const draw = (): void => {
        if (running.at(-1) !== self) return;
        stream.write(`\r\x1b[2K${`${FRAMES[frame++ % FRAMES.length]} ${describe()} ${elapsed(start)}`.slice(0, columns())}`);
      };
      // A log line stays readable when the detail is a long line of some tool's output.
      const heartbeat = (): void => void stream.write(`… ${describe().slice(0, 200)}, ${elapsed(start)}\n`);
      const timer = options.quiet ? undefined : live ? setInterval(draw, 100) : setInterval(heartbeat, HEARTBEAT_MS);
      timer?.unref();
      if (live) draw();
      const finish = (mark: string, suffix: string): void => {
        if (timer) clearInterval(timer);
        const at = running.indexOf(self);
        if (at >= 0) running.splice(at, 1);
        endPhase();
        if (options.quiet) return;
        stream.write(`${live ? '\r\x1b[2K' : ''}${mark} ${title}${suffix} (${elapsed(start)})\n`);
      };
      return {
        update: (next) => {
          const text = next.replace(/\s+/g, ' ').trim();
          if (text === detail) return;
          endPhase();
          detail = text;
        },
        done: (result) => finish('✓', result ? ` — ${result}` : ''),
        fail: () => finish('✗', ''),
      };
    },
    warn(message: string): void {
      stream.write(`${live ? '\r\x1b[2K' : ''}! ${message}\n`);
    },
    info(message: string): void {
      if (!options.quiet) stream.write(`${live ? '\r\x1b[2K' : ''}• ${message}\n`);
    },
  };
}
