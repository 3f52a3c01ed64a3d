// An HA kubeadm cluster behind the box's load balancer: how long the API is gone when server-0 dies, and
// what one API request costs through HAProxy against a plain DNAT to the same server, in the same run.
import { request } from 'node:https';
import { parse } from 'yaml';
import { DEFAULT_KUBEADM_VERSION } from '../../src/distribution/kubeadm/assets.js';
import { attempt, must } from '../proc.js';
import { figure, medianMs, ratio, round, timed, type Figure } from '../stats.js';
import { log } from './common.js';

const CLUSTER = 'bench-kubeadm-ha';
const UP = ['up', CLUSTER, '--k8s', 'kubeadm', '--servers', '3', '--workers', '0', '--no-snapshot', '--no-switch', '-o', 'json'];
/** A port of the box left free by kiab, for the DNAT baseline. */
const DNAT_PORT = 16443;
const LATENCY_SAMPLES = 50;

export interface HaFigures {
  version: string;
  /** From `docker kill` of server-0 until GET /readyz through the box answers again. */
  apiFailover: Figure;
  /** One GET /readyz on a new TLS connection, median of LATENCY_SAMPLES. */
  apiRequest: { loadBalancer: Figure; dnat: Figure; extraMs: number; ratio: number };
}

interface Api {
  host: string;
  ca: string;
}

/** One GET /readyz on a fresh connection (TLS handshake included), verified against the cluster CA. */
function readyz(api: Api, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: api.host, port, path: '/readyz', ca: api.ca, agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function untilAnswers(api: Api, port: number, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await readyz(api, port, 1000);
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export async function kubeadmHa(runs: number): Promise<HaFigures> {
  await attempt('kiab', ['delete', CLUSTER]);
  try {
    const status = JSON.parse(await must('kiab', UP)) as { address: string };
    const kubeconfig = parse(await must('kiab', ['kubeconfig', CLUSTER])) as { clusters: Array<{ cluster: { 'certificate-authority-data': string } }> };
    const api: Api = { host: status.address, ca: Buffer.from(kubeconfig.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString() };
    const box = `kiab-${CLUSTER}-box`;
    const server0 = `kiab-${CLUSTER}-server-0`;
    const server0Ip = (await must('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', server0])).trim();

    log(`kubeadm HA: ${LATENCY_SAMPLES} API requests through the load balancer and through a DNAT`);
    await must('docker', [
      'exec',
      box,
      'iptables',
      '-w',
      '-t',
      'nat',
      '-A',
      'PREROUTING',
      '-p',
      'tcp',
      '--dport',
      String(DNAT_PORT),
      '-j',
      'DNAT',
      '--to-destination',
      `${server0Ip}:6443`,
    ]);
    await untilAnswers(api, DNAT_PORT, 10_000);
    const balanced: number[] = [];
    const dnat: number[] = [];
    // Interleaved, so both see the same host load.
    for (let index = 0; index < LATENCY_SAMPLES; index += 1) {
      balanced.push(await timed(() => readyz(api, 6443, 5000)));
      dnat.push(await timed(() => readyz(api, DNAT_PORT, 5000)));
    }

    const failover: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      log(`kubeadm HA: failover run ${run + 1}/${runs}`);
      await untilAnswers(api, 6443, 60_000);
      failover.push(
        await timed(async () => {
          await must('docker', ['kill', server0]);
          await untilAnswers(api, 6443, 60_000);
        }),
      );
      // Back to three healthy servers, untimed.
      await must('kiab', UP);
    }
    return {
      version: DEFAULT_KUBEADM_VERSION,
      apiFailover: figure(failover),
      apiRequest: {
        loadBalancer: figure(balanced),
        dnat: figure(dnat),
        extraMs: round(medianMs(balanced) - medianMs(dnat), 1),
        ratio: ratio(balanced, dnat),
      },
    };
  } finally {
    await attempt('kiab', ['delete', CLUSTER]);
  }
}
