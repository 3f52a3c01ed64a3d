/**
 * Awaits every promise, then throws the first failure, if any. Unlike Promise.all, nothing started here is
 * still running when the error arrives, so whatever cleans up after it sees all that was made.
 */
export async function settleAll<T>(work: Array<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(work);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}
