/**
 * What must be undone even when kiab leaves before its work reaches a safe point (a second Ctrl-C, or a
 * signal's grace running out): machines a snapshot paused are unpaused, whatever else is left for the next
 * command to converge.
 */
const undoers = new Set<() => Promise<void>>();

/** Registers an undo for as long as its work runs; the returned function takes it back once the work undid itself. */
export function undoOnForcedExit(undo: () => Promise<void>): () => void {
  undoers.add(undo);
  return () => undoers.delete(undo);
}

/** Runs every registered undo at once, for at most `ms`: a hung engine cannot keep kiab from leaving. */
export async function undoBeforeForcedExit(ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled([...undoers].map((undo) => undo())), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
