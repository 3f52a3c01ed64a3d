import { readFile } from 'node:fs/promises';
import { KiabError } from '../../errors.js';

/** The part of ginkgo v2's JSON report (`--json-report`) the summary reads. */
interface GinkgoSpecReport {
  ContainerHierarchyTexts?: string[] | null;
  LeafNodeText?: string;
  LeafNodeType?: string;
  State?: string;
  RunTime?: number;
  Failure?: { Message?: string; Location?: { FileName?: string; LineNumber?: number } } | null;
}
interface GinkgoReport {
  SpecReports?: GinkgoSpecReport[] | null;
}

export interface ConformanceFailure {
  spec: string;
  /** passed, failed, timedout, panicked, interrupted or aborted: ginkgo's word for how it ended. */
  state: string;
  message: string;
  location: string | null;
}

export interface PassResult {
  passed: number;
  failed: number;
  /** Selected by the focus, then skipped by the spec itself (a feature the cluster lacks, a provider check). */
  skipped: number;
  failures: ConformanceFailure[];
}

const FAILED_STATES = new Set(['failed', 'timedout', 'panicked', 'interrupted', 'aborted']);

function specName(report: GinkgoSpecReport): string {
  const texts = [...(report.ContainerHierarchyTexts ?? []), report.LeafNodeText ?? ''].filter(Boolean);
  return texts.length ? texts.join(' ') : `[${report.LeafNodeType ?? 'suite node'}]`;
}

/**
 * Counts one ginkgo run's outcome. Specs the focus left out are in the report as "skipped" with no failure
 * record; a spec that skipped itself carries its reason, so only those count as skipped. A suite node that
 * failed (the framework's setup before any spec) is a failure too, named by its node type.
 */
export function summarisePass(reports: GinkgoReport[]): PassResult {
  const result: PassResult = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const report of reports) {
    for (const spec of report.SpecReports ?? []) {
      const state = spec.State ?? 'unknown';
      const isSpec = spec.LeafNodeType === 'It';
      if (FAILED_STATES.has(state)) {
        result.failed += 1;
        const location = spec.Failure?.Location?.FileName ? `${spec.Failure.Location.FileName}:${spec.Failure.Location.LineNumber ?? 0}` : null;
        result.failures.push({ spec: specName(spec), state, message: (spec.Failure?.Message ?? '').trim(), location });
      } else if (isSpec && state === 'passed') result.passed += 1;
      else if (isSpec && state === 'skipped' && spec.Failure?.Message) result.skipped += 1;
    }
  }
  return result;
}

export async function readPassReport(path: string): Promise<PassResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new KiabError(`the suite wrote no report (${path})`, { hint: 'see the output above: ginkgo or e2e.test stopped before any spec ran' });
  }
  return summarisePass(JSON.parse(text) as GinkgoReport[]);
}

/**
 * Turns ginkgo's verbose output into one line per finished spec. Ginkgo ends each spec with a header such as
 * `• [12.345 seconds]`, `• [FAILED] [3.2 seconds]` or `S [SKIPPED] [0.1 seconds]`. Run in parallel, the next
 * line names the spec; run alone, its name came first, right after the delimiter line that opened it.
 */
export function specProgress(): (line: string) => string | undefined {
  const delimiter = /^-{10,}$/;
  let header: { state: string; seconds: string } | undefined;
  let afterDelimiter = false;
  let opened = '';
  return (line) => {
    const match = /^(•|S)(?: \[([A-Z]+)\])? \[(\d+(?:\.\d+)?) seconds\]$/.exec(line);
    if (afterDelimiter && !match) opened = line;
    afterDelimiter = delimiter.test(line);
    if (match) {
      header = { state: (match[2] ?? 'PASSED').toLowerCase(), seconds: Number(match[3]).toFixed(1) };
      return undefined;
    }
    if (!header) return undefined;
    const finished = `${header.state} ${delimiter.test(line) ? opened : line} (${header.seconds}s)`;
    header = undefined;
    return finished;
  };
}
