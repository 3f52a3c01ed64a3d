import { Argument } from 'commander';
import { clusterNameSchema } from '../../spec/schema.js';
import { UsageError } from '../../errors.js';

export function validateClusterName(value: string, what = 'NAME'): string {
  const result = clusterNameSchema.safeParse(value);
  if (!result.success) throw new UsageError(`${what}: "${value}" ${result.error.issues[0]?.message ?? 'is invalid'}`);
  return value;
}

export function clusterNameArgument(): Argument {
  return new Argument('[name]', 'cluster name').default('kiab').argParser((value: string) => validateClusterName(value));
}
