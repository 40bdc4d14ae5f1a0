/** Stage 2: check each loaded file against spec/schema.json with ajv; the error names the file and the field. */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { SpecError, type LoadedSpec } from './load.js';
import type { RawSpec } from './raw-spec.js';

export function createValidator(schemaPath: string): (spec: LoadedSpec) => RawSpec {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTuples: false, strictRequired: false, strictTypes: false });
  const validate: ValidateFunction = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  return (spec) => {
    if (!validate(spec.data)) {
      const error = mostSpecificError(validate.errors ?? []);
      throw new SpecError(spec.file, fieldPath(error), describe(error));
    }
    return spec.data as RawSpec;
  };
}

/** `/args/2/oneOf/of/1/type` reads better as `args[2].oneOf.of[1].type`. */
function fieldPath(error: ErrorObject): string {
  let path = '';
  for (const part of error.instancePath.split('/').slice(1)) {
    path += /^\d+$/.test(part) ? `[${part}]` : path ? `.${part}` : part;
  }
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    path = path ? `${path}.${extra}` : extra;
  }
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    path = path ? `${path}.${missing}` : missing;
  }
  return path || '(top level)';
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case 'additionalProperties':
      return 'is not a known field';
    case 'required':
      return 'is required';
    case 'enum':
      return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return error.message ?? 'is invalid';
  }
}

// With oneOf, ajv reports a failure in every branch; the deepest error of a concrete keyword is the
// one a writer can act on.
const VAGUE = new Set(['oneOf', 'anyOf', 'if', 'allOf', 'not', 'const', 'false schema']);

function mostSpecificError(errors: ErrorObject[]): ErrorObject {
  const depth = (e: ErrorObject) => e.instancePath.split('/').length + (e.keyword === 'additionalProperties' || e.keyword === 'required' ? 1 : 0);
  const concrete = errors.filter((e) => !VAGUE.has(e.keyword));
  const pool = concrete.length > 0 ? concrete : errors;
  return pool.reduce((best, e) => (depth(e) > depth(best) ? e : best), pool[0]!);
}
