/** Emits generated/REFERENCE.md: every command by family, with its signature, reply and server support. */
import { byKey } from '../sort.js';
import type { CommandModel } from '../model.js';
import { replyTypeToTs } from '../reply-type.js';
import { signatures } from './methods.js';

const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function signature(model: CommandModel): string {
  const [first] = signatures(model);
  const params = first!.parameters
    .map((p) => `${p.isRestParameter ? '...' : ''}${p.name}${p.hasQuestionToken ? '?' : ''}`)
    .join(', ');
  return `${model.method}(${params})`;
}

function reply(model: CommandModel): string {
  const r = model.reply;
  if (r.kind === 'plain') return replyTypeToTs(r.type, 'string');
  if (r.kind === 'parsed') return r.tsType;
  const when = r.whenKind === 'flag' ? `{ ${r.when}: true }` : r.when;
  return `${replyTypeToTs(r.else, 'string')}; with ${when}: ${replyTypeToTs(r.then, 'string')}`;
}

function gocache(model: CommandModel): string {
  if (!model.gocache.supported) return 'no';
  const limited = model.options.filter((o) => !o.gocache).map((o) => o.name);
  const notes = [limited.length > 0 ? `not ${limited.join(', ')}` : '', model.gocache.split ? 'several keys sent one per command' : ''].filter(Boolean);
  return notes.length > 0 ? `yes (${notes.join('; ')})` : 'yes';
}

export function emitReference(models: CommandModel[], header: string): string {
  const groups = [...new Set(models.map((m) => m.group))].sort();
  const lines = [
    `<!-- ${header.trim().split('\n').join(' ').replace(/^\/\/ /, '').replace(/ \/\/ /g, ' ')} -->`,
    '# Command reference',
    '',
    `${models.length} commands in ${groups.length} families, generated from \`spec/\`. Every method's JSDoc carries the same`,
    'information and a runnable example. "GoCache: no" means the client rejects the call before sending it',
    "when it targets GoCache (the default); connect with `{ server: 'redis' }` to use it with Redis.",
    '',
    ...groups.map((g) => `- [${g}](#${g})`),
  ];
  for (const group of groups) {
    lines.push('', `## ${group}`, '', '| command | method | reply | Redis | GoCache | summary |', '|---|---|---|---|---|---|');
    for (const model of models.filter((m) => m.group === group).sort(byKey((m) => m.command))) {
      const iterator = model.iterator ? `<br>\`${model.iterator}(...)\` (async iterator)` : '';
      lines.push(
        `| ${model.command} | \`${escape(signature(model))}\`${iterator} | \`${escape(reply(model))}\` | ${model.redis === false ? '-' : model.redis} | ${gocache(model)} | ${escape(model.summary)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
