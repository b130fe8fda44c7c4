// Puts the edittrace Python package and its pure-Python dependencies into bundled/libs, so the
// .vsix needs nothing but a Python >= 3.11 interpreter. Compiled extension modules are removed:
// msgpack and websockets fall back to their pure-Python code, and the bundle then works on any
// platform and Python version the package supports. Ends by importing everything the server
// needs from the bundle alone (-S: no site-packages), so a broken bundle fails here, not on a
// contractor's machine.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const here = resolve(import.meta.dirname, '..');
const repo = resolve(here, '..');
const libs = join(here, 'bundled', 'libs');
const python = process.env.PYTHON ?? (existsSync(join(repo, '.venv', 'bin', 'python')) ? join(repo, '.venv', 'bin', 'python') : 'python3');

rmSync(libs, { recursive: true, force: true });
execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-compile', '--target', libs, repo], {
    stdio: 'inherit',
    env: { ...process.env, PIP_NO_WARN_SCRIPT_LOCATION: '1' },
});

// pip arrives as a dependency of sqlite-utils (for its `install` subcommand), which the
// language server never runs: 7 MB the contractor does not need.
for (const name of readdirSync(libs)) {
    if (name === 'pip' || /^pip-.*\.dist-info$/.test(name)) {
        rmSync(join(libs, name), { recursive: true, force: true });
    }
}

let removed = 0;
function prune(dir) {
    for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
            if (name === '__pycache__' || name === 'bin') {
                rmSync(path, { recursive: true, force: true });
            } else {
                prune(path);
            }
        } else if (name.endsWith('.so') || name.endsWith('.pyd') || name.endsWith('.dylib')) {
            rmSync(path);
            removed += 1;
        }
    }
}
prune(libs);

const probe = 'import msgpack, websockets, pygls, lsprotocol, edittrace.cli.main, edittrace.server, edittrace.capture; print("bundle ok")';
const out = execFileSync(python, ['-S', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(libs)}); ${probe}`], { encoding: 'utf8', cwd: '/' });
process.stdout.write(`bundled/libs: ${out.trim()} (${removed} compiled modules removed)\n`);
