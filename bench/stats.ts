// Figures for the bench: samples in milliseconds in, seconds (3 decimals) out.

export interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function medianMs(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function figure(samples: readonly number[]): Figure {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: seconds(medianMs(samples)), min: seconds(sorted[0]!), max: seconds(sorted[sorted.length - 1]!), runs: samples.map(seconds) };
}

/** kiab median over baseline median, 2 decimals. */
export function ratio(kiab: readonly number[], baseline: readonly number[]): number {
  return round(medianMs(kiab) / medianMs(baseline));
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

export interface Scaling {
  /** Least-squares cost of one more machine, seconds. */
  perMachine: number;
  /** Least-squares fixed cost (network, box, process start), seconds. */
  fixed: number;
  /** How well a straight line fits the medians (1 = perfectly linear). */
  r2: number;
  /** Cost per added machine between consecutive sizes, from the medians: similar values mean linear scaling. */
  marginal: Array<{ from: number; to: number; perMachine: number }>;
}

/** Fits seconds = fixed + perMachine * machines through the medians of each size. */
export function scaling(points: ReadonlyArray<{ machines: number; samples: readonly number[] }>): Scaling {
  const xs = points.map((point) => point.machines);
  const ys = points.map((point) => medianMs(point.samples) / 1000);
  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  for (let index = 0; index < xs.length; index += 1) {
    sxy += (xs[index]! - mx) * (ys[index]! - my);
    sxx += (xs[index]! - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  let residual = 0;
  let total = 0;
  for (let index = 0; index < xs.length; index += 1) {
    residual += (ys[index]! - (intercept + slope * xs[index]!)) ** 2;
    total += (ys[index]! - my) ** 2;
  }
  const marginal = [];
  for (let index = 1; index < xs.length; index += 1) {
    marginal.push({ from: xs[index - 1]!, to: xs[index]!, perMachine: round((ys[index]! - ys[index - 1]!) / (xs[index]! - xs[index - 1]!), 3) });
  }
  return { perMachine: round(slope, 3), fixed: round(intercept, 3), r2: total === 0 ? 1 : round(1 - residual / total, 3), marginal };
}
