import { readPackageFile } from '../../package-files.js';

/** The upstream unit's settings; LimitNOFILE is capped by kiab's machine-wide drop-in where the host needs it. */
export const K3S_SERVICE = readPackageFile('src/distribution/k3s/files/k3s.service');
