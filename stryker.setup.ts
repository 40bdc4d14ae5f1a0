// vitest setupFile for `make mutate` only (stryker.vitest.config.ts): leaves out, by name, the tests
// too slow to rerun for each mutant, and those that measure time (Stryker's coverage counters and a
// busy machine change timings, not behaviour). `make test` runs them as always.
// - parser.test.ts's streams cut at every split point: seconds per run, more under the counters, and
//   they cover every line of the parser, so every surviving parser mutant would rerun them;
// - parser-limits.test.ts's linear-time checks: they compare durations.
import { beforeEach } from 'vitest';

/** Full names (`describe > ... > test`), or a describe's name followed by ` > ` for all its tests. */
export const LEFT_OUT = [
  'RespParser: a stream of every type, cut anywhere > fed in two pieces at every one of its split points, gives the same values',
  'RespParser: a stream of every type, cut anywhere > fed in three pieces around every cut of the small replies, gives the same values',
  'RespParser limits: linear time on cut lines > ',
];

beforeEach((context) => {
  const names: string[] = [];
  for (let suite = context.task.suite; suite !== undefined && suite.name !== ''; suite = suite.suite) names.unshift(suite.name);
  const full = [...names, context.task.name].join(' > ');
  if (LEFT_OUT.some((name) => (name.endsWith(' > ') ? full.startsWith(name) : full === name))) context.skip();
});
