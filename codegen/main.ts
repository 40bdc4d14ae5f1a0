/** `npx tsx codegen/main.ts [--check]`: see cli.ts. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runGenerator } from './cli.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const result = runGenerator(root, { check: process.argv.includes('--check') });
(result.code === 0 ? console.log : console.error)(result.output);
process.exitCode = result.code;
