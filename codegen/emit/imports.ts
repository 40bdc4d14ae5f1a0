/**
 * What a generated file imports, collected by the emitters as they write code: the line that writes
 * `argKey(` also records that argKey comes from src/runtime/args.ts. Adding a decoder or an argument
 * check is then one change in one place, and no import is guessed from the emitted text.
 */
import { posix } from 'node:path';
import type { ImportDeclarationStructure, OptionalKind } from 'ts-morph';
import { byKey } from '../sort.js';

/** The runtime modules generated code may import (project-relative): generated/ depends on nothing else. */
export const RUNTIME = {
  types: 'src/runtime/types.ts',
  kind: 'src/runtime/kind.ts',
  args: 'src/runtime/args.ts',
  decoders: 'src/runtime/decoders.ts',
  replyParsers: 'src/runtime/reply-parsers.ts',
} as const;

/** The project-relative path of a family's generated file (`generated/commands/string.ts`). */
export const familyFile = (group: string) => `generated/commands/${group}.ts`;

export class Imports {
  /** module path -> name -> type-only */
  private readonly modules = new Map<string, Map<string, boolean>>();

  /** Records a value import and returns the name, so an emitter can write `imports.value(M, 'x')(...)`. */
  value(module: string, name: string): string {
    this.add(module, name, false);
    return name;
  }

  /** Records a type-only import and returns the name. */
  type(module: string, name: string): string {
    this.add(module, name, true);
    return name;
  }

  private add(module: string, name: string, typeOnly: boolean): void {
    let names = this.modules.get(module);
    if (names === undefined) this.modules.set(module, (names = new Map()));
    // A name used as a value anywhere is imported as a value.
    names.set(name, (names.get(name) ?? true) && typeOnly);
  }

  /** Import declarations for a file at `fromFile` (project-relative), sorted; modules of that file itself are left out. */
  declarations(fromFile: string): Array<OptionalKind<ImportDeclarationStructure>> {
    return [...this.modules]
      .filter(([module]) => module !== fromFile)
      .sort(byKey(([module]) => module))
      .map(([module, names]) => {
        let specifier = posix.relative(posix.dirname(fromFile), module).replace(/\.ts$/, '.js');
        if (!specifier.startsWith('.')) specifier = `./${specifier}`;
        const sorted = [...names].sort(byKey(([name]) => name));
        const allTypes = sorted.every(([, typeOnly]) => typeOnly);
        return {
          moduleSpecifier: specifier,
          isTypeOnly: allTypes,
          namedImports: sorted.map(([name, typeOnly]) => ({ name, isTypeOnly: typeOnly && !allTypes })),
        };
      });
  }
}
