import type { Reporter, StepProgress } from '../reporter.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

/**
 * Step progress on stderr (stdout stays for results and JSON): a live line with a spinner on a terminal,
 * one line per finished step otherwise, so logs and CI output stay readable.
 */
export function terminalReporter(stream: NodeJS.WriteStream = process.stderr, options: { quiet?: boolean } = {}): Reporter {
  const live = stream.isTTY === true && !options.quiet;
  const columns = (): number => (stream.columns ?? 100) - 1;
  return {
    step(title: string): StepProgress {
      const start = Date.now();
      let detail = '';
      let frame = 0;
      const draw = (): void => {
        const line = `${FRAMES[frame++ % FRAMES.length]} ${title}${detail ? ` — ${detail}` : ''} ${seconds(start)}`;
        stream.write(`\r\x1b[2K${line.slice(0, columns())}`);
      };
      const timer = live ? setInterval(draw, 100) : undefined;
      timer?.unref();
      if (live) draw();
      const finish = (mark: string, suffix: string): void => {
        if (timer) clearInterval(timer);
        if (options.quiet) return;
        stream.write(`${live ? '\r\x1b[2K' : ''}${mark} ${title}${suffix} (${seconds(start)})\n`);
      };
      return {
        update: (next) => {
          detail = next.replace(/\s+/g, ' ').trim();
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
