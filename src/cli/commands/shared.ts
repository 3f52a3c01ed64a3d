import { Argument } from 'commander';
import { clusterNameSchema } from '../../spec/schema.js';
import { findClusterStatus, type ClusterStatus } from '../../cluster/status.js';
import { KiabError, UsageError } from '../../errors.js';
import type { Runtime } from '../runtime.js';

export function validateClusterName(value: string, what = 'NAME'): string {
  const result = clusterNameSchema.safeParse(value);
  if (!result.success) throw new UsageError(`${what}: "${value}" ${result.error.issues[0]?.message ?? 'is invalid'}`);
  return value;
}

export function clusterNameArgument(): Argument {
  return new Argument('[name]', 'cluster name').default('kiab').argParser((value: string) => validateClusterName(value));
}

/** The status of an existing cluster, or the error a user of `status`-like commands expects. */
export async function requireClusterStatus(runtime: Runtime, name: string): Promise<ClusterStatus> {
  const provider = runtime.provider();
  await provider.ping();
  const status = await findClusterStatus(provider, name);
  if (!status) throw new KiabError(`cluster ${name} does not exist`, { hint: `create it with \`kiab up ${name}\`, or see \`kiab list\`` });
  return status;
}
