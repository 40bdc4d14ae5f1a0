// Prints the mutation score of each file from the JSON reports `make mutate` leaves in coverage/mutation/
// (one per target): killed and timed-out mutants over all but the ignored ones, as Stryker counts it,
// and the survivors and uncovered mutants by kind.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'coverage/mutation';
const rows = [];
for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const report = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const count = (status) => mutants.filter((m) => m.status === status).length;
    const detected = count('Killed') + count('Timeout');
    const valid = mutants.length - count('Ignored') - count('CompileError') - count('RuntimeError');
    const alive = {};
    for (const m of mutants) if (m.status === 'Survived' || m.status === 'NoCoverage') alive[`${m.status} ${m.mutatorName}`] = (alive[`${m.status} ${m.mutatorName}`] ?? 0) + 1;
    rows.push({ file, score: valid === 0 ? 100 : (100 * detected) / valid, detected, valid, survived: count('Survived'), noCoverage: count('NoCoverage'), ignored: count('Ignored'), alive });
  }
}
for (const r of rows) {
  console.log(`${r.file}: ${r.score.toFixed(2)}% (${r.detected} of ${r.valid} detected; ${r.survived} survived, ${r.noCoverage} without coverage, ${r.ignored} static ignored)`);
  for (const [kind, n] of Object.entries(r.alive).sort((a, b) => b[1] - a[1])) console.log(`    ${n} ${kind}`);
}
