// `migtrace events [--qemu-version X.Y]`: the `-trace events=FILE` file migtrace needs, the same
// set `migtrace capture` enables (capture/events.ts builds both), for one QEMU version: the events
// and the firehoses differ between versions (a name a build lacks makes QEMU warn at start-up).
import { writeFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { catalogEventsFor, deriveEventSet } from '../../capture/events.js';
import { parseQemuVersion, type QemuVersion } from '../../capture/qemu.js';
import { loadCatalog } from '../../model/catalog.js';
import { UsageError } from '../errors.js';
import { cliIo } from '../io.js';
import { writeOut } from '../output.js';

export interface EventsArgs {
  'qemu-version'?: string;
  output?: string;
  catalog: string[];
  quiet: boolean;
}

function parseVersion(text: string): QemuVersion {
  const v = /^\d+\.\d+(\.\d+)?$/.test(text.trim()) ? parseQemuVersion(`version ${text.trim()}`) : null;
  if (!v) throw new UsageError(`--qemu-version takes a QEMU version such as 7.2, 10.0 or 11.1.3 (got '${text}')`);
  return v;
}

export const eventsCommand: CommandModule<object, EventsArgs> = {
  command: 'events',
  describe: 'Write the -trace events=FILE file of the events migtrace needs (for a QEMU version)',
  builder: (y: Argv) =>
    y
      .option('qemu-version', { type: 'string', requiresArg: true, describe: "The QEMU version that will read the file (7.2, 10.0.13 …): only its events, and its firehoses left out. Without it: every version's events (QEMU warns for the ones it lacks)" })
      .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'Write to this file instead of stdout' })
      .option('catalog', { type: 'string', array: true, default: [], describe: 'Extra event catalog CSV (as for check): its events are listed too' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No summary on stderr' })
      .example('$0 events --qemu-version 10.0 -o events.txt', 'Then: qemu-system-x86_64 -trace events=events.txt -msg timestamp=on -D src.log …')
      .check((a) => {
        if (a['qemu-version'] !== undefined) parseVersion(String(a['qemu-version']));
        return true;
      }) as unknown as Argv<EventsArgs>,
  handler: async (args) => {
    const version = args['qemu-version'] !== undefined ? parseVersion(args['qemu-version']) : null;
    const catalogEvents = catalogEventsFor(loadCatalog(args.catalog), version);
    const writtenFor = version ? `QEMU ${args['qemu-version']} (source and destination)` : 'any QEMU version';
    const set = deriveEventSet({ catalogEvents, srcVersion: version, writtenBy: 'migtrace events', writtenFor, quietExclusions: true });
    if (args.output && args.output !== '-') {
      try {
        await writeFile(args.output, set.text);
      } catch (e) {
        throw new UsageError(`-o ${args.output}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    } else {
      await writeOut(set.text);
    }
    if (args.quiet) return;
    const { stderr } = cliIo();
    const where = args.output && args.output !== '-' ? ` to ${args.output}` : '';
    const forVersion = version ? `QEMU ${args['qemu-version']}` : 'any QEMU version (give --qemu-version for one)';
    stderr.write(`migtrace: wrote the event set for ${forVersion}${where}: ${catalogEvents.length - set.catalogExcluded.length} catalog events enabled\n`);
    if (set.catalogExcluded.length) {
      stderr.write(`migtrace:   left out as per-page firehoses${version ? '' : ' (as on QEMU < 8.0)'}: ${set.catalogExcluded.join(', ')}; a rule that needs one says so (inconclusive), never clean\n`);
    }
  },
};
