import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KiabError } from '../../errors.js';
import { packageRoot } from '../../package-files.js';
import { runProcess } from '../../process.js';

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

/**
 * Turns build.sh's output into a step detail: its "compiling NAME (i/N)" announcements say which binary is
 * being compiled and how far along the build is; `go build -v`'s package lines in between show it moving.
 */
export function buildProgress(onProgress: (detail: string) => void): (line: string) => void {
  let current = '';
  return (line) => {
    const announced = /^build\.sh: (?:compiling (\S+ \(\d+\/\d+\))|(preparing go\.mod for \S+))$/.exec(line);
    if (announced) {
      current = announced[1] ?? announced[2] ?? '';
      onProgress(current);
    } else if (current && !line.startsWith('build.sh:')) onProgress(`${current}: ${line}`);
  };
}

/** The conformance suite from the same module: e2e.test, the ginkgo CLI, and the test images' binaries. */
export const KUBEBUILD_SUITE = ['e2e.test', 'ginkgo', 'agnhost', 'nonewprivs', 'sample-apiserver', 'e2e-etcd'] as const;

/** Runs kubebuild/build.sh VERSION OUTDIR NAME... (Go and the module proxy, nothing else), reporting what it compiles. */
export async function buildKubernetesBinaries(
  version: string,
  outDir: string,
  names: readonly string[],
  onProgress: (detail: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  await runProcess('bash', [join(kubebuildDir(), 'build.sh'), version, outDir, ...names], {
    onLine: buildProgress(onProgress),
    ...(signal ? { signal } : {}),
    what: `building Kubernetes ${version} from source`,
    hint: 'check that `go` is on PATH and the Go module proxy answers (GOPROXY)',
    missing: { message: 'cannot run the Kubernetes build: bash is not installed', hint: 'install bash and Go (https://go.dev/dl)' },
  });
}
