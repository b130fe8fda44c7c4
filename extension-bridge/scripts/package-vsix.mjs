// `vsce package` into dist/edittrace.vsix, without prompts: the bundle already holds the
// dependencies (esbuild), so node_modules stays out.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const here = resolve(import.meta.dirname, '..');
mkdirSync(join(here, 'dist'), { recursive: true });
const vsce = join(here, 'node_modules', '.bin', 'vsce');
execFileSync(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--out', join(here, 'dist', 'edittrace.vsix')], {
    cwd: here,
    stdio: 'inherit',
});
