import type { Command } from 'commander';
import { doctor, type DoctorReport, type Finding } from '../../cluster/doctor.js';
import { printJson } from '../output.js';
import { outputOf, outputOption, type Runtime } from '../runtime.js';

const MARK: Record<Finding['status'], string> = { ok: '✓', warn: '!', fail: '✗' };

function printReport(report: DoctorReport): void {
  const width = Math.max(...report.checks.map((check) => check.id.length));
  const lines = report.checks.flatMap((check) => [
    `${MARK[check.status]} ${check.id.padEnd(width)}  ${check.message}`,
    ...(check.fix ? [`  ${' '.repeat(width)}  fix: ${check.fix}`] : []),
  ]);
  const failed = report.checks.filter((check) => check.status === 'fail').length;
  const warned = report.checks.filter((check) => check.status === 'warn').length;
  lines.push(
    '',
    failed
      ? `${failed} finding${failed > 1 ? 's' : ''} marked ✗ stop${failed > 1 ? '' : 's'} \`kiab up\` here; fix ${failed > 1 ? 'them' : 'it'} first`
      : `nothing stops \`kiab up\` here${warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerDoctor(program: Command, runtime: Runtime): void {
  program
    .command('doctor')
    .description('check this host for what kiab needs, saying what each finding means and how to fix it; exits 1 when something stops `kiab up`')
    .addOption(outputOption())
    .action(async (_flags: unknown, command: Command) => {
      const report = await doctor(runtime.provider());
      if (outputOf(command) === 'json') printJson(report);
      else printReport(report);
      if (!report.ready) process.exitCode = 1;
    });
}
