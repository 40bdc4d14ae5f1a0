/** Stage 1: read every spec file, keeping its path for error messages. Sorted, so output never depends on directory order. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parseDocument } from 'yaml';

export interface LoadedSpec {
  /** Path relative to the project root, with forward slashes: `spec/string/set.yaml`. */
  file: string;
  /** The family, from the folder the file is in. */
  group: string;
  data: unknown;
}

export class SpecError extends Error {
  constructor(file: string, where: string, problem: string) {
    super(`${file}: ${where ? `${where}: ` : ''}${problem}`);
    this.name = 'SpecError';
  }
}

export function listSpecFiles(specDir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(specDir).sort()) {
    const path = join(specDir, entry);
    if (!statSync(path).isDirectory()) continue;
    for (const file of readdirSync(path).sort()) {
      if (file.endsWith('.yaml') || file.endsWith('.yml')) files.push(join(path, file));
    }
  }
  return files;
}

export function loadSpecFile(path: string, root: string): LoadedSpec {
  const file = relative(root, path).split(sep).join('/');
  const parts = file.split('/');
  const group = parts[parts.length - 2] ?? '';
  const document = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    const line = first.linePos?.[0];
    throw new SpecError(file, line ? `line ${line.line}, column ${line.col}` : '', `invalid YAML: ${first.message.split('\n')[0]}`);
  }
  return { file, group, data: document.toJS() };
}

export function loadSpecs(specDir: string, root: string): LoadedSpec[] {
  return listSpecFiles(specDir).map((path) => loadSpecFile(path, root));
}
