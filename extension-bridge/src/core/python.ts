// Choosing and checking the Python interpreter that runs `edittrace lsp`. Pure.

export const MIN_PYTHON: readonly [number, number] = [3, 11];

/** The script run before starting the server: prints the version, or fails to import. */
export const VERSION_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3])";

export type InterpreterSource = 'setting' | 'python-extension' | 'path';

export interface InterpreterChoice {
    command: string;
    source: InterpreterSource;
}

/** Setting first, then the Python extension's active interpreter, then `python3` on PATH. */
export function chooseInterpreter(setting: string | undefined, fromPythonExtension: string | undefined): InterpreterChoice {
    if (setting && setting.trim() !== '') {
        return { command: setting.trim(), source: 'setting' };
    }
    if (fromPythonExtension && fromPythonExtension.trim() !== '') {
        return { command: fromPythonExtension.trim(), source: 'python-extension' };
    }
    return { command: 'python3', source: 'path' };
}

export function parseVersion(output: string): [number, number, number] | undefined {
    const match = /^(\d+)\.(\d+)\.(\d+)\s*$/.exec(output.trim());
    if (!match) {
        return undefined;
    }
    return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export type ProbeResult =
    | { ok: true; version: string }
    | { ok: false; message: string };

const FIX =
    'Install Python 3.11 or newer and set "edittrace.python.interpreterPath" to it ' +
    '(or select it in the Python extension), then run "edittrace: Restart Language Server".';

/** Turns the probe's outcome into one clear message, or the go-ahead. */
export function judgeProbe(choice: InterpreterChoice, stdout: string | undefined, error: string | undefined): ProbeResult {
    const where = choice.source === 'setting' ? 'edittrace.python.interpreterPath' : choice.source === 'python-extension' ? "the Python extension's interpreter" : 'PATH';
    if (error !== undefined) {
        return { ok: false, message: `edittrace needs Python >= ${MIN_PYTHON.join('.')}, but "${choice.command}" (from ${where}) could not run: ${error}. ${FIX}` };
    }
    const version = parseVersion(stdout ?? '');
    if (!version) {
        return { ok: false, message: `edittrace could not read the version of "${choice.command}" (from ${where}). ${FIX}` };
    }
    const [major, minor] = version;
    if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
        return { ok: false, message: `edittrace needs Python >= ${MIN_PYTHON.join('.')}, but "${choice.command}" (from ${where}) is ${version.join('.')}. ${FIX}` };
    }
    return { ok: true, version: version.join('.') };
}

/** PYTHONPATH with the bundled libraries first, so they win over whatever the interpreter has. */
export function bundledPythonPath(bundledLibs: string, existing: string | undefined, delimiter: string): string {
    return existing && existing !== '' ? `${bundledLibs}${delimiter}${existing}` : bundledLibs;
}
