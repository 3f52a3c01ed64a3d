import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { HEARTBEAT_MS, terminalReporter } from '../../src/cli/progress.js';

/** A stand-in for process.stderr that keeps what was written. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  let written = '';
  return {
    isTTY,
    columns: 80,
    write: (chunk: string) => {
      written += chunk;
      return true;
    },
    text: () => written,
  } as unknown as NodeJS.WriteStream & { text: () => string };
}

describe('progress without a terminal', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  it('prints a line for a running step at least every 20 s, naming its latest detail and time', () => {
    const out = stream(false);
    const step = terminalReporter(out).step('compile Kubernetes v1.34.4');
    step.update('kubelet (1/10)');
    mock.timers.tick(HEARTBEAT_MS - 1);
    assert.equal(out.text(), '', 'nothing before the first interval');
    mock.timers.tick(1);
    step.update('kube-apiserver (4/10)');
    for (let second = 0; second < 200; second++) mock.timers.tick(1000);
    step.done();
    const lines = out.text().trimEnd().split('\n');
    assert.equal(lines[0], '… compile Kubernetes v1.34.4 — kubelet (1/10), 15.0s');
    assert.equal(lines.at(-2), '… compile Kubernetes v1.34.4 — kube-apiserver (4/10), 3m30s');
    assert.equal(lines.at(-1), '✓ compile Kubernetes v1.34.4 (3m35s)');
    assert.equal(lines.length, 1 + Math.floor(215_000 / HEARTBEAT_MS));
    assert.ok(HEARTBEAT_MS <= 20_000);
  });

  it('stops printing once the step ends, and a quiet reporter prints nothing', () => {
    const out = stream(false);
    terminalReporter(out).step('boot').fail(new Error('x'));
    terminalReporter(out, { quiet: true }).step('silent');
    mock.timers.tick(10 * HEARTBEAT_MS);
    assert.equal(out.text(), '✗ boot (0.0s)\n');
  });

  it('with timings, prints each phase of a step with its own duration, once per change of detail', () => {
    const out = stream(false);
    const step = terminalReporter(out, { timings: true }).step('install kubeadm');
    step.update('importing images');
    mock.timers.tick(2500);
    step.update('kubeadm  init');
    step.update('kubeadm init');
    mock.timers.tick(4000);
    step.update('joining 2 workers');
    mock.timers.tick(1000);
    step.done();
    assert.equal(
      out.text(),
      ['  · importing images (2.5s)', '  · kubeadm init (4.0s)', '  · joining 2 workers (1.0s)', '✓ install kubeadm (7.5s)', ''].join('\n'),
    );
  });

  it('draws in place on a terminal instead of printing heartbeat lines', () => {
    const out = stream(true);
    const step = terminalReporter(out).step('boot');
    step.update('2 of 3 machines running');
    for (let tenth = 0; tenth < HEARTBEAT_MS / 100; tenth++) mock.timers.tick(100);
    step.done();
    assert.ok(!out.text().includes('…'), out.text());
    assert.ok(out.text().includes('\r\x1b[2K⠙ boot — 2 of 3 machines running 0.1s'), out.text());
    assert.ok(out.text().endsWith('\r\x1b[2K✓ boot (15.0s)\n'));
  });

  it('on a terminal, draws the latest of two steps that run side by side, and the other once that one ends', () => {
    const out = stream(true);
    const reporter = terminalReporter(out);
    const machines = reporter.step('machines (3)');
    const box = reporter.step('box kiab-dev-box');
    const drawn = out.text().length;
    mock.timers.tick(300);
    assert.ok(out.text().slice(drawn).includes('box kiab-dev-box'));
    assert.ok(!out.text().slice(drawn).includes('machines (3)'), 'the earlier step does not draw over the latest');
    box.done();
    const after = out.text().length;
    mock.timers.tick(300);
    assert.ok(out.text().slice(after).includes('machines (3) 0.6s'), out.text().slice(after));
    machines.done();
  });
});
