import type { Command, Option } from 'commander';

/**
 * Shell completion, worked out from commander's own command tree so that it cannot drift from what kiab
 * parses: the shell scripts in ./files/ hand over the words typed so far (`kiab __complete -- WORD...`, the
 * last one being the word under the cursor) and offer what comes back.
 */

/** Where the names of things that exist come from: the engine, through the cluster layer. */
export interface CompletionSources {
  clusters(): Promise<string[]>;
  /** Machines: full names (kiab-dev-worker-0) of every cluster, or short ones (worker-0) of the cluster given. */
  nodes(cluster: string | undefined): Promise<string[]>;
  /** Snapshot names of one cluster, or of every cluster. */
  snapshots(cluster: string | undefined): Promise<string[]>;
}

/** Either the candidates for the word under the cursor, or: let the shell complete file names. */
export type Completion = { files: true } | { files: false; words: string[] };

type ValueKind = 'cluster' | 'node' | 'snapshot' | 'file';

/** What a value is, by the name of the argument (`[name]`, `<node>`) or of an option's value (`--cluster <name>`). */
const KIND_OF: Record<string, ValueKind> = { name: 'cluster', names: 'cluster', node: 'node', snap: 'snapshot', files: 'file', file: 'file', path: 'file' };

function placeholder(option: Option): string | undefined {
  return /[<[]([\w-]+)/.exec(option.flags)?.[1];
}

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

/** The program's options that stand after a command too (--verbose; --version only works alone). */
function everywhere(program: Command): Option[] {
  return program.options.filter((option) => !option.hidden && option.long !== '--version');
}

/** The options a word may name at this point: the command's own, and the program's that stand anywhere. */
function optionsOf(program: Command, command: Command): Option[] {
  return command === program ? [...command.options] : [...command.options, ...everywhere(program)];
}

function findOption(options: Option[], flag: string): Option | undefined {
  return options.find((option) => option.long === flag || option.short === flag);
}

/** The state after the words before the cursor: which command, its positional values, the option values given. */
interface Parsed {
  command: Command;
  positional: string[];
  given: Map<string, string>;
  /** An option whose value is the word under the cursor. */
  awaiting: Option | undefined;
  /** After `--`: the words belong to a command run in a machine. */
  passthrough: boolean;
}

function parse(program: Command, words: string[]): Parsed {
  const state: Parsed = { command: program, positional: [], given: new Map(), awaiting: undefined, passthrough: false };
  for (const word of words) {
    if (state.passthrough) continue;
    if (state.awaiting) {
      state.given.set(state.awaiting.attributeName(), word);
      state.awaiting = undefined;
    } else if (word === '--') {
      state.passthrough = true;
    } else if (word.startsWith('-')) {
      const [flag, inline] = word.split(/=(.*)/s);
      const option = findOption(optionsOf(program, state.command), flag!);
      if (option && takesValue(option)) {
        if (inline === undefined) state.awaiting = option;
        else state.given.set(option.attributeName(), inline);
      }
    } else {
      const sub = state.positional.length === 0 ? state.command.commands.find((child) => child.name() === word || child.aliases().includes(word)) : undefined;
      if (sub) state.command = sub;
      else state.positional.push(word);
    }
  }
  return state;
}

/** The cluster the words so far name: a positional cluster argument, else --cluster. */
function namedCluster(state: Parsed): string | undefined {
  const index = state.command.registeredArguments.findIndex((argument) => KIND_OF[argument.name()] === 'cluster');
  return (index >= 0 ? state.positional[index] : undefined) ?? state.given.get('cluster');
}

async function valuesOf(kind: ValueKind | undefined, choices: readonly string[] | undefined, state: Parsed, sources: CompletionSources): Promise<Completion> {
  if (choices) return { files: false, words: [...choices] };
  switch (kind) {
    case 'file':
      return { files: true };
    case 'cluster':
      return { files: false, words: await sources.clusters() };
    case 'node':
      return { files: false, words: await sources.nodes(state.given.get('cluster')) };
    case 'snapshot':
      return { files: false, words: await sources.snapshots(namedCluster(state)) };
    case undefined:
      return { files: false, words: [] };
  }
}

/** Candidates for the last of `words` (the word under the cursor, '' when the cursor follows a space). */
export async function complete(program: Command, words: string[], sources: CompletionSources): Promise<Completion> {
  const current = words.at(-1) ?? '';
  const state = parse(program, words.slice(0, -1));
  const only = async (completion: Completion | Promise<Completion>): Promise<Completion> => {
    const resolved = await completion;
    return resolved.files ? resolved : { files: false, words: resolved.words.filter((word) => word.startsWith(current)) };
  };
  if (state.passthrough) return { files: false, words: [] };
  if (state.awaiting) return only(valuesOf(KIND_OF[placeholder(state.awaiting) ?? ''], state.awaiting.argChoices, state, sources));
  const help = state.command.createHelp();
  if (current.startsWith('-')) {
    const options = [...help.visibleOptions(state.command), ...(state.command === program ? [] : everywhere(program))];
    return only({ files: false, words: options.map((option) => option.long ?? option.short ?? '').filter(Boolean) });
  }
  const subcommands = state.positional.length === 0 ? help.visibleCommands(state.command).map((child) => child.name()) : [];
  const declared = state.command.registeredArguments;
  const argument = declared[state.positional.length] ?? (declared.at(-1)?.variadic ? declared.at(-1) : undefined);
  const values = argument ? await valuesOf(KIND_OF[argument.name()], argument.argChoices, state, sources) : { files: false as const, words: [] };
  if (values.files) return subcommands.length ? only({ files: false, words: subcommands }) : values;
  return only({ files: false, words: [...subcommands, ...values.words] });
}
