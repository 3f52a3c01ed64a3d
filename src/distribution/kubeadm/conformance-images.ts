import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KiabError } from '../../errors.js';
import type { RecipeFile } from '../../images/index.js';
import { readPackageFile } from '../../package-files.js';
import type { KubernetesRelease } from './releases.js';

/**
 * The images the conformance specs run, made offline under the names and tags the suite asks for: the test
 * binaries come from the k8s.io/kubernetes module (kubebuild/build.sh), everything else from Debian's packages.
 * Upstream builds them on Alpine and busybox; what each one must offer is what the specs call in it.
 */
export interface TestImage {
  /** The reference the specs use (or, for the shared layer, kiab's own name for it). */
  ref: string;
  /** The image its Dockerfile builds on: the Debian base, or another image of this list. */
  from: 'base' | string;
  /** Saved into the asset set and loaded into the machines; the shared layer is only built on. */
  saved: boolean;
  dockerfile: string;
  /** Files of the build context besides the Dockerfile: binaries from the build folder, or shipped files. */
  files: (binDir: string) => Promise<RecipeFile[]>;
}

const shipped = (name: string, mode = 0o644): RecipeFile => ({
  path: name,
  content: readPackageFile(`src/distribution/kubeadm/files/${name}`),
  mode,
});
const built = async (binDir: string, name: string, mode = 0o644): Promise<RecipeFile> => ({
  path: name,
  content: await readFile(join(binDir, name)),
  mode,
});

/** What agnhost and jessie-dnsutils call: upstream's agnhost adds bind-tools, curl, netcat-openbsd, iproute2 and bash to Alpine. */
const TOOLS_DOCKERFILE = `ARG BASE
FROM \${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
 && apt-get install -y --no-install-recommends bash curl netcat-openbsd dnsutils iproute2 procps \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log
`;
const TOOLS = `kiab/e2e-tools:${createHash('sha256').update(TOOLS_DOCKERFILE).digest('hex').slice(0, 12)}`;

/**
 * Busybox's own source, as Debian's mirror keeps it (the pristine upstream tarball of busybox 1.37.0, the
 * version upstream's image has; the sum is the one Debian's busybox_1.37.0-6.dsc lists). Debian's binary
 * package will not do: it patches ash to drop environment variables such as `data-1`.
 */
export const BUSYBOX_SOURCE = {
  path: 'pool/main/b/busybox/busybox_1.37.0.orig.tar.bz2',
  sha256: '3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4',
  file: 'busybox.tar.bz2',
};

/** Upstream's httpd test image serves exactly this page; busybox's httpd serves it from the same path. */
const HTTPD_INDEX = '<html><body><h1>It works!</h1></body></html>\n';
const NGINX_INDEX = '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n';

/** How one test image is made; `from` names the image it builds on by its repository name ('base': Debian). */
interface Recipe {
  from: 'base' | 'e2e-tools' | 'agnhost' | 'busybox';
  dockerfile: string;
  files: (binDir: string) => Promise<RecipeFile[]>;
}

/** A web server image on busybox: the specs use httpd and nginx as "a container serving HTTP on port 80". */
function webServer(root: string, index: string): Recipe {
  return {
    from: 'busybox',
    dockerfile: `ARG BASE
FROM \${BASE}
COPY index.html ${root}/index.html
EXPOSE 80
CMD ["httpd", "-f", "-p", "80", "-h", "${root}"]
`,
    files: () => Promise.resolve([{ path: 'index.html', content: index }]),
  };
}

/** A DNS client image: dig and getent, as the DNS specs call them (jessie-dnsutils, later glibc-dns-testing). */
const DNS_CLIENT: Recipe = {
  from: 'e2e-tools',
  dockerfile: `ARG BASE
FROM \${BASE}
CMD ["bash"]
`,
  files: () => Promise.resolve([]),
};

/** On a busybox base: one binary of the build folder as the entrypoint. */
function busyboxWith(binary: string, path: string, entrypoint: string[]): Recipe {
  return {
    from: 'busybox',
    dockerfile: `ARG BASE
FROM \${BASE}
COPY ${binary} ${path}
ENTRYPOINT ${JSON.stringify(entrypoint)}
`,
    files: async (binDir) => [await built(binDir, binary, 0o755)],
  };
}

/**
 * A recipe per repository name. Which of them a release's suite runs, and under which tags, is the release's
 * `testImages` list (releases.ts, from its test/utils/image/manifest.go).
 */
const RECIPES: Record<string, Recipe> = {
  agnhost: {
    from: 'e2e-tools',
    // As upstream's: the TLS pair its porter and netexec serve with, the user and group the security
    // context specs expect, an /uploads folder, and the agnhost-2 name.
    dockerfile: `ARG BASE
FROM \${BASE}
COPY agnhost localhost.crt localhost.key /
RUN ln -s agnhost /agnhost-2 && mkdir /uploads \\
 && groupadd -g 50000 group-defined-in-image \\
 && useradd -M -u 1000 -G group-defined-in-image user-defined-in-image
EXPOSE 80 8080 8081 9376 5000
ENTRYPOINT ["/agnhost"]
CMD ["pause"]
`,
    files: async (binDir) => [await built(binDir, 'agnhost', 0o755), await built(binDir, 'localhost.crt'), await built(binDir, 'localhost.key')],
  },
  nautilus: {
    from: 'agnhost',
    dockerfile: `ARG BASE
FROM \${BASE}
COPY nautilus.jpg data.json /
CMD ["test-webserver"]
`,
    files: async (binDir) => [await built(binDir, 'nautilus.jpg'), await built(binDir, 'data.json')],
  },
  // The image the ImageVolume specs mount as a volume.
  kitten: {
    from: 'agnhost',
    dockerfile: `ARG BASE
FROM \${BASE}
COPY kitten.jpg /kitten.jpg
COPY kitten-data.json /data.json
CMD ["test-webserver"]
`,
    files: async (binDir) => [await built(binDir, 'kitten.jpg'), await built(binDir, 'kitten-data.json')],
  },
  'jessie-dnsutils': DNS_CLIENT,
  'glibc-dns-testing': DNS_CLIENT,
  busybox: {
    from: 'base',
    dockerfile: `ARG BASE
FROM \${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends gcc make libc6-dev bzip2
COPY ${BUSYBOX_SOURCE.file} e2e-busybox-rootfs.sh e2e-busybox-passwd e2e-busybox-group /
RUN /e2e-busybox-rootfs.sh /rootfs
FROM scratch
COPY --from=build /rootfs /
CMD ["sh"]
`,
    files: async (binDir) => [
      await built(binDir, BUSYBOX_SOURCE.file),
      shipped('e2e-busybox-rootfs.sh', 0o755),
      shipped('e2e-busybox-passwd'),
      shipped('e2e-busybox-group'),
    ],
  },
  // The StatefulSet specs of older releases break and restore readiness by moving index.html out of and back
  // into this root.
  httpd: webServer('/usr/local/apache2/htdocs', HTTPD_INDEX),
  nginx: webServer('/usr/share/nginx/html', NGINX_INDEX),
  // The aggregator spec runs these two side by side in one pod; upstream's sample API server image is Fedora.
  'sample-apiserver': busyboxWith('kube-sample-apiserver', '/', ['/kube-sample-apiserver']),
  // The etcd k8s.io/kubernetes requires, under the tag its test image list names.
  etcd: busyboxWith('e2e-etcd', '/usr/local/bin/etcd', ['/usr/local/bin/etcd']),
  nonewprivs: {
    from: 'busybox',
    dockerfile: `ARG BASE
FROM \${BASE}
COPY nnp /usr/local/bin/nnp
RUN chmod u+s /usr/local/bin/nnp
CMD ["nnp"]
`,
    files: async (binDir) => [await built(binDir, 'nnp', 0o755)],
  },
};

/** registry.k8s.io/e2e-test-images/agnhost:2.66.1 -> agnhost */
export function repositoryName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1, ref.lastIndexOf(':'));
}

/**
 * The images to make for one release's conformance suite, in build order (an image comes after the one it builds
 * on), under the references that release's suite asks for. A reference with no recipe is refused: the release
 * table names an image kiab does not know how to make.
 */
export function testImagesFor(release: Pick<KubernetesRelease, 'version' | 'testImages'>): TestImage[] {
  const byName = new Map(release.testImages.map((ref) => [repositoryName(ref), ref]));
  const refOf = (name: Recipe['from']): string => {
    if (name === 'base') return 'base';
    if (name === 'e2e-tools') return TOOLS;
    const ref = byName.get(name);
    if (!ref) throw new KiabError(`the conformance images of Kubernetes ${release.version} build on ${name}, which its list lacks`);
    return ref;
  };
  const recipes = release.testImages.map((ref) => {
    const recipe = RECIPES[repositoryName(ref)];
    if (!recipe) throw new KiabError(`kiab has no recipe for the test image ${ref} of Kubernetes ${release.version}`);
    return { ref, recipe };
  });
  const depth = (name: Recipe['from']): number => (name === 'base' ? 0 : name === 'e2e-tools' ? 1 : 1 + depth(RECIPES[name]!.from));
  const ordered = recipes.sort((a, b) => depth(a.recipe.from) - depth(b.recipe.from));
  return [
    { ref: TOOLS, from: 'base', saved: false, dockerfile: TOOLS_DOCKERFILE, files: () => Promise.resolve([]) },
    ...ordered.map(({ ref, recipe }) => ({ ref, from: refOf(recipe.from), saved: true, dockerfile: recipe.dockerfile, files: recipe.files })),
  ];
}

/** registry.k8s.io/e2e-test-images/agnhost:2.56 -> images/agnhost-2.56.tar */
export function archiveName(ref: string): string {
  const name = ref.slice(ref.lastIndexOf('/') + 1).replace(':', '-');
  return `images/${name}.tar`;
}
