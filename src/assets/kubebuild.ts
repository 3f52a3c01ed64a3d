import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KiabError } from '../errors.js';
import { packageRoot } from '../package-files.js';

/** The Go module that compiles Kubernetes from the k8s.io/kubernetes module; shipped beside the bundle. */
export function kubebuildDir(): string {
  const path = join(packageRoot(), 'kubebuild');
  if (existsSync(join(path, 'build.sh'))) return path;
  throw new KiabError('the kubebuild Go module is not installed next to kiab', { hint: 'run kiab from its repository or a full npm install' });
}

export const KUBEBUILD_BINARIES = [
  'kubelet',
  'kubeadm',
  'kubectl',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'etcd',
  'coredns',
  'pause',
] as const;

/** Runs kubebuild/build.sh VERSION OUTDIR (Go and the module proxy, nothing else), streaming its lines. */
export function buildKubernetesBinaries(version: string, outDir: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(kubebuildDir(), 'build.sh'), version, outDir, ...KUBEBUILD_BINARIES], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal ? { signal } : {}),
    });
    let tail = '';
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString();
      tail = (tail + text).slice(-3000);
      for (const line of text.split('\n')) if (line.trim()) onLine(line.trim());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (error) =>
      reject(
        new KiabError(`cannot run the Kubernetes build: ${error.message}`, {
          hint: 'install Go (https://go.dev/dl) and make sure the Go module proxy is reachable',
        }),
      ),
    );
    child.once('close', (code) => {
      if (code === 0) return resolve();
      const lastLines = tail.trim().split('\n').slice(-4).join(' | ');
      reject(
        new KiabError(`building Kubernetes ${version} from source failed (exit ${code}): ${lastLines}`, {
          hint: 'check that `go` is on PATH and the Go module proxy answers (GOPROXY)',
        }),
      );
    });
  });
}
