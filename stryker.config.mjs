// StrykerJS: `make mutate` (not part of `make test`). Mutates the RESP encoder and parser, the reply
// decoders, the connection and the generator's model, and runs only the unit tests that exercise
// them (see TARGETS), each mutant only against the tests that cover it (perTest coverage analysis).
// `make mutate MUTATE="encoder decoders"` runs some of the targets only; stryker.summary.mjs prints
// the score of each file from the reports.
//
// Left out on purpose, for time (each surviving mutant reruns every test that covers it, and these
// cover the whole file): tests/unit/parser-fuzz.test.ts (thousands of random streams),
// tests/codegen/generator.test.ts (about a minute: the CLI on copies of the project, the compiler
// on every generated file; codegen/model.ts is measured by the model's own unit tests instead), the
// other integration tests (each mutant of the connection would wait on servers), and two tests of
// tests/unit/parser.test.ts named in stryker.setup.ts.

/** Each mutated file and the tests that exercise it. */
const TARGETS = {
  encoder: { file: 'src/runtime/resp/encoder.ts', tests: ['tests/unit/encoder.test.ts', 'tests/unit/properties.test.ts', 'tests/unit/mutation-encoder.test.ts'] },
  parser: { file: 'src/runtime/resp/parser.ts', tests: ['tests/unit/parser.test.ts', 'tests/unit/parser-limits.test.ts', 'tests/unit/properties.test.ts', 'tests/unit/mutation-parser.test.ts'] },
  decoders: { file: 'src/runtime/decoders.ts', tests: ['tests/unit/decoders.test.ts', 'tests/unit/properties.test.ts', 'tests/unit/mutation-decoders.test.ts'] },
  connection: { file: 'src/client/connection.ts', tests: ['tests/integration/connection.test.ts', 'tests/integration/pipeline.test.ts'] },
  model: { file: 'codegen/model.ts', tests: ['tests/unit/mutation-model.test.ts'] },
};

// `make mutate` runs Stryker once per target (MUTATE=<target>): in one run, every mutant would also
// rerun the other targets' tests that happen to reach it (the connection's tests parse and encode).
const names = (process.env.MUTATE ?? Object.keys(TARGETS).join(',')).split(',').map((name) => name.trim());
const chosen = names.map((name) => {
  const target = TARGETS[name];
  if (target === undefined) throw new Error(`MUTATE: unknown target "${name}" (known: ${Object.keys(TARGETS).join(', ')})`);
  return target;
});
const report = `coverage/mutation/${names.join('+')}`;
// Read by stryker.vitest.config.ts in the test runner processes, which inherit the environment.
process.env.STRYKER_TEST_FILES = JSON.stringify([...new Set(chosen.flatMap((t) => t.tests))]);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'stryker.vitest.config.ts', related: false },
  coverageAnalysis: 'perTest',
  mutate: chosen.map((t) => t.file),
  // The sandbox needs the sources, the tests and what they read (spec/, generated/, configs), not the rest.
  ignorePatterns: ['dist', 'bench', 'examples', 'coverage', '.tmp', '*.tgz'],
  concurrency: 2,
  // A mutant that makes a test hang is detected (Timeout) after twice the test's own time plus 5 s.
  timeoutMS: 5000,
  timeoutFactor: 2,
  // Static mutants (module-level code run once at import: constant tables, precomputed buffers) would
  // need every test rerun in a fresh process each; they are left out of the score (reported as ignored).
  ignoreStatic: true,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  // Reports go under coverage/ and the sandbox under .tmp/, both git-ignored.
  htmlReporter: { fileName: `${report}.html` },
  jsonReporter: { fileName: `${report}.json` },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  thresholds: { high: 85, low: 70, break: null },
  tempDirName: '.tmp/stryker',
  cleanTempDir: 'always',
  // Only the mutated files get `// @ts-nocheck` (the tests compare generated/ byte for byte).
  disableTypeChecks: '{src,codegen}/**/*.ts',
  // Stryker rewrites tsconfig.json's extends/references for the sandbox with TypeScript 5's API, which
  // the project's TypeScript 7 does not export; tsconfig.json has neither, so no file is named here.
  tsconfigFile: 'no-tsconfig-to-rewrite.json',
};
