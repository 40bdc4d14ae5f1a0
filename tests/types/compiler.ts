/**
 * The compiler, for type tests: ts-morph's, with the repo's tsconfig.json. `problems` lists a file's
 * errors; `check` type-checks a snippet as an in-memory file beside the typecheck files.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Project, ts, type Diagnostic, type SourceFile } from 'ts-morph';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Problem {
  line: number;
  code: number;
  message: string;
}

export interface TypeChecker {
  project: Project;
  problems(file: SourceFile): Problem[];
  check(text: string): Problem[];
}

/** A compiler with `typecheckFiles` (relative to the repo) and what they import loaded. */
export function createTypeChecker(typecheckFiles: string | string[], snippetPrefix: string): TypeChecker {
  const project = new Project({ tsConfigFilePath: join(root, 'tsconfig.json'), skipAddingFilesFromTsConfig: true });
  for (const file of [typecheckFiles].flat()) project.addSourceFileAtPath(join(root, file));
  project.resolveSourceFileDependencies();
  let counter = 0;

  const problems = (file: SourceFile): Problem[] =>
    file
      .getPreEmitDiagnostics()
      .filter((d: Diagnostic) => d.getCategory() === ts.DiagnosticCategory.Error)
      .map((d) => ({ line: d.getLineNumber() ?? 0, code: d.getCode(), message: ts.flattenDiagnosticMessageText(d.compilerObject.messageText, '\n') }));

  const check = (text: string): Problem[] => {
    const file = project.createSourceFile(join(root, 'tests/types', `${snippetPrefix}${counter++}.ts`), text);
    try {
      return problems(file);
    } finally {
      project.removeSourceFile(file);
    }
  };

  return { project, problems, check };
}
