/**
 * The layers run one way, and the folders show them:
 *
 *   src/runtime   types, errors, argument checks, decoders, reply parsers, RESP  (imports: node:*)
 *        ^
 *   generated     descriptors, builders, decoders, RedisCommands, GoCacheCommands (imports: runtime)
 *        ^
 *   src/client    connection, client, pipelines, transactions, pub/sub           (imports: both)
 *        ^
 *   src/cluster   slots, ring, cluster client                                     (imports: all above)
 *        ^
 *   src/index.ts  the package's public API
 *
 * Every import of every file under src/ and generated/ is checked against that, and the SDK imports
 * nothing from npm, tests, tools or the generator: it depends on Node alone.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ts } from 'ts-morph';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Layers in order: a file may import from its own layer and the ones before it. */
const LAYERS = ['src/runtime', 'generated', 'src/client', 'src/cluster', 'src/index.ts'] as const;

function layerOf(path: string): number {
  return LAYERS.findIndex((layer) => path === layer || path.startsWith(`${layer}/`));
}

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) out.push(relative(root, path).split('\\').join('/'));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

/** Every module specifier a file imports or re-exports (type-only ones too: they are dependencies of the types). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

const files = [...sources('src'), ...sources('generated')];

describe('one-way layers', () => {
  it('every SDK file belongs to a layer', () => {
    expect(files.filter((file) => layerOf(file) === -1)).toEqual([]);
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files)('%s imports only Node and its own or lower layers', (file) => {
    const wrong: string[] = [];
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('node:')) continue;
      if (!specifier.startsWith('.')) {
        wrong.push(`${specifier}: a package (the SDK depends on Node alone)`);
        continue;
      }
      const target = relative(root, resolve(dirname(join(root, file)), specifier)).split('\\').join('/').replace(/\.js$/, '.ts');
      const layer = layerOf(target);
      if (layer === -1) wrong.push(`${specifier}: outside the SDK (${target})`);
      else if (layer > layerOf(file)) wrong.push(`${specifier}: ${LAYERS[layer]} is above ${LAYERS[layerOf(file)]}`);
    }
    expect(wrong).toEqual([]);
  });

  // The check itself: a wrong import is caught (so the table above cannot pass by accident).
  it('flags an import that runs the wrong way', () => {
    expect(layerOf('src/runtime/decoders.ts')).toBeLessThan(layerOf('generated/redis-commands.ts'));
    expect(layerOf('generated/redis-commands.ts')).toBeLessThan(layerOf('src/client/client.ts'));
    const info = ts.preProcessFile("import { Pipeline } from '../client/pipeline.js';\nexport type { X } from './x.js';", true, true);
    expect(info.importedFiles.map((f) => f.fileName)).toEqual(['../client/pipeline.js', './x.js']);
  });
});
