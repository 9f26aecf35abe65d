// Import layers of src/ (npm run lint: depcruise src). The pipeline runs one way:
//
//   spec (model/, types.ts) <- ingest <- assembly <- engine (replay/ + the rule contract)
//       <- observers (rules/, timeline/, convert/) <- report <- baseline <- cli
//   capture: a side tool (runs QEMU to make traces), started by the cli only
//
// - spec is the leaf: the catalog, signals, ownership, versions and the shared types say what QEMU
//   does and what a finding is; every stage may read them (ingest matches catalog rows as it reads,
//   so ingest -> model is a forward edge), they import nothing above.
// - The rule contract (rules/rule.ts: what a rule is; rules/requirements.ts: what it may declare
//   it needs) is the interface the engine runs. It sits with the engine's layer and imports only the
//   spec; the engine receives its rules (the registry, rules/index.ts, is passed in by the CLI) and
//   never imports a rule module.
// - rules, timeline and convert each consume the replay and do not import each other, except that
//   convert --to chrome-trace renders the timeline's data (convert -> timeline; never back).
// - baseline is above report: it reads and rewrites a report (accepted findings, a saved baseline),
//   keyed by the report's finding fingerprint; no report imports it.
// - A command (cli/commands/*) does not import another command: what two share lives below them.
// Type-only imports count like any other: a type-level cycle or backward edge is still one.
/** Layers by path; the order is the pipeline's. */
const SPEC = '^src/(model/|types\\.ts$)';
const CONTRACT = '^src/rules/(rule|requirements)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle, type-level ones included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'spec-is-a-leaf',
      comment: 'model/ and types.ts import nothing above them.',
      severity: 'error',
      from: { path: SPEC },
      to: { path: '^src/', pathNot: SPEC },
    },
    {
      name: 'ingest-reads-only',
      comment: 'ingest may read the spec, nothing later in the pipeline.',
      severity: 'error',
      from: { path: '^src/ingest/' },
      to: { path: '^src/', pathNot: `${SPEC}|^src/ingest/` },
    },
    {
      name: 'assembly-below-replay',
      comment: 'assembly groups inputs into runs: ingest and spec only.',
      severity: 'error',
      from: { path: '^src/assembly/' },
      to: { path: '^src/', pathNot: `${SPEC}|^src/(ingest|assembly)/` },
    },
    {
      name: 'engine-receives-its-rules',
      comment: 'replay runs the rules it is given: it may import the rule contract, never the registry or a rule.',
      severity: 'error',
      from: { path: '^src/replay/' },
      to: { path: '^src/', pathNot: `${SPEC}|${CONTRACT}|^src/(ingest|assembly|replay)/` },
    },
    {
      name: 'rule-contract-is-low',
      comment: 'The rule contract imports only the spec (the engine imports it).',
      severity: 'error',
      from: { path: CONTRACT },
      to: { path: '^src/', pathNot: `${SPEC}|${CONTRACT}` },
    },
    {
      name: 'rules-observe-the-replay',
      comment: 'Rules read the replay and the spec; not the timeline, convert, report, baseline or cli.',
      severity: 'error',
      from: { path: '^src/rules/' },
      to: { path: '^src/(timeline|convert|report|baseline|cli|capture)/' },
    },
    {
      name: 'timeline-observes-the-replay',
      comment: 'The timeline reads the replay and the spec; not the rules, convert, report, baseline or cli.',
      severity: 'error',
      from: { path: '^src/timeline/' },
      to: { path: '^src/(rules|convert|report|baseline|cli|capture)/', pathNot: CONTRACT },
    },
    {
      name: 'convert-observes-the-replay',
      comment: 'convert reads the replay, the spec and (chrome-trace) the timeline it renders; not the rules, report, baseline or cli.',
      severity: 'error',
      from: { path: '^src/convert/' },
      to: { path: '^src/(rules|report|baseline|cli|capture)/', pathNot: CONTRACT },
    },
    {
      name: 'report-below-baseline-and-cli',
      comment: 'Reports render runs, rules and timelines; they do not import baseline, convert or the cli.',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '^src/(baseline|convert|cli|capture)/' },
    },
    {
      name: 'baseline-below-cli',
      comment: 'baseline works on reports and findings; only the cli is above it.',
      severity: 'error',
      from: { path: '^src/baseline/' },
      to: { path: '^src/(cli|capture|convert|timeline)/' },
    },
    {
      name: 'capture-is-a-side-tool',
      comment: 'capture runs QEMU to make traces: it uses the spec only, and only the cli starts it.',
      severity: 'error',
      from: { path: '^src/capture/' },
      to: { path: '^src/', pathNot: `${SPEC}|^src/capture/` },
    },
    {
      name: 'only-cli-starts-capture',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|capture)/' },
      to: { path: '^src/capture/' },
    },
    {
      name: 'no-command-imports-a-command',
      comment: 'What two commands share lives in cli/ or below, not in one of them.',
      severity: 'error',
      from: { path: '^src/cli/commands/([^/]+)\\.ts$' },
      to: { path: '^src/cli/commands/', pathNot: '^src/cli/commands/$1\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
