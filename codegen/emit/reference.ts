/** Emits generated/REFERENCE.md: every command by family, with its signature, reply and server support. */
import { byKey } from '../sort.js';
import { gocacheView, type CommandModel } from '../model.js';
import { replyTypeToTs } from '../reply-type.js';
import { Imports } from './imports.js';
import { signatures } from './signatures.js';

/** Inside a table cell only `|` needs escaping, also in a code span (GitHub-flavoured Markdown). */
const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => `\`${cell(text)}\``;

function signature(model: CommandModel): string {
  const [first] = signatures(model, new Imports());
  const params = first!.parameters.map((p) => `${p.isRestParameter ? '...' : ''}${p.name}${p.hasQuestionToken ? '?' : ''}`).join(', ');
  return `${model.method}(${params})`;
}

function reply(model: CommandModel): string {
  const r = model.reply;
  if (r.parse) return r.parse.as;
  const plain = replyTypeToTs(r.type, 'string');
  const cases = r.cases.map((c) => `with ${c.when.map((w) => (w.kind === 'flag' ? `{ ${w.name}: true }` : w.name)).join(' and ')}: ${replyTypeToTs(c.type, 'string')}`);
  return [plain, ...cases].join('; ');
}

function gocache(model: CommandModel): string {
  const view = gocacheView(model);
  if (view === undefined) return 'no';
  const left = model.options.filter((o) => !o.gocache).map((o) => o.name);
  const notes = [left.length > 0 ? `not ${left.join(', ')}` : '', model.gocache.split ? 'several keys sent one per command' : '', model.gocache.multi !== undefined ? 'not in MULTI' : ''].filter(Boolean);
  return notes.length > 0 ? `yes (${notes.join('; ')})` : 'yes';
}

const MERGES: Record<string, string> = { sum: 'summed', ordered: 'in key order', ok: 'OK', concat: 'concatenated', equal: 'must agree' };

/** Where a cluster client sends it (GoCacheCluster): by its keys unless the spec says otherwise. */
function clusterRoute(model: CommandModel): string {
  const routing = model.cluster;
  if (routing?.refuse !== undefined) return `refused: ${routing.refuse}`;
  if (routing?.split !== undefined) return `split per node, ${MERGES[routing.split]}`;
  if (routing?.everyNode !== undefined) return `every leader, ${MERGES[routing.everyNode]}`;
  if (routing?.channel !== undefined) return "its channel's node";
  if (model.keyArgs.length > 0) return "its keys' node";
  return 'any node';
}

export function emitReference(models: CommandModel[], header: string): string {
  const groups = [...new Set(models.map((m) => m.group))].sort();
  const lines = [
    `<!-- ${header.trim().split('\n').join(' ').replace(/^\/\/ /, '').replace(/ \/\/ /g, ' ')} -->`,
    '# Command reference',
    '',
    `${models.length} commands in ${groups.length} families, generated from \`spec/\`. Every method's JSDoc carries the same`,
    'information and a runnable example. "GoCache: no" means the client rejects the call before sending it',
    "when it targets GoCache (the default); connect with `{ server: 'redis' }` to use it with Redis. Replies",
    'decoded from maps are objects without a prototype (a field named `__proto__` is an ordinary key).',
    '"Cluster" says where `GoCacheCluster` sends it: to the node of its keys (which must share one slot, or',
    "one shard for GoCache, unless it is split), split per node and merged, to every leader, or refused before",
    'anything is sent.',
    '',
    ...groups.map((g) => `- [${g}](#${g})`),
  ];
  for (const group of groups) {
    lines.push('', `## ${group}`, '', '| command | method | reply | Redis | GoCache | cluster | summary |', '|---|---|---|---|---|---|---|');
    for (const model of models.filter((m) => m.group === group).sort(byKey((m) => m.command))) {
      const method = model.core ? cell(model.core.api) : `${code(signature(model))}${model.iterator ? `<br>${code(`${model.iterator}(...)`)} (async iterator)` : ''}`;
      const deprecated = model.deprecated ? ` **Deprecated** since ${model.deprecated.since}: ${model.deprecated.replacement}` : '';
      lines.push(`| ${model.command} | ${method} | ${code(reply(model))} | ${model.redis === false ? '-' : model.redis} | ${gocache(model)} | ${cell(clusterRoute(model))} | ${cell(model.summary)}${cell(deprecated)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
