// Finds the interpreter for `edittrace lsp` (setting, Python extension, PATH) and checks it.
import { execFile } from 'child_process';
import { extensions, Uri } from 'vscode';
import { chooseInterpreter, InterpreterChoice, judgeProbe, ProbeResult, VERSION_PROBE } from '../core/python';
import { traceDebug } from './log';
import { getConfiguration } from './vscodeapi';

interface PythonExtensionApi {
    environments?: {
        getActiveEnvironmentPath(resource?: Uri): { path: string };
        resolveEnvironment(path: string): Promise<{ executable: { uri?: Uri } } | undefined>;
    };
    settings?: {
        getExecutionDetails(resource?: Uri): { execCommand: string[] | undefined };
    };
}

/** The Python extension's active interpreter, when that extension is installed; else undefined. */
async function interpreterFromPythonExtension(resource: Uri | undefined): Promise<string | undefined> {
    const extension = extensions.getExtension<PythonExtensionApi>('ms-python.python');
    if (!extension) {
        return undefined;
    }
    try {
        const api = extension.isActive ? extension.exports : await extension.activate();
        if (api?.environments) {
            const active = api.environments.getActiveEnvironmentPath(resource);
            const resolved = await api.environments.resolveEnvironment(active.path);
            if (resolved?.executable.uri) {
                return resolved.executable.uri.fsPath;
            }
        }
        return api?.settings?.getExecutionDetails(resource).execCommand?.[0];
    } catch (error) {
        traceDebug('Python extension gave no interpreter:', error);
        return undefined;
    }
}

export async function findInterpreter(resource: Uri | undefined): Promise<InterpreterChoice> {
    const setting = getConfiguration().get<string>('python.interpreterPath');
    const fromExtension = setting ? undefined : await interpreterFromPythonExtension(resource);
    return chooseInterpreter(setting, fromExtension);
}

export function probeInterpreter(choice: InterpreterChoice, env: NodeJS.ProcessEnv): Promise<ProbeResult> {
    return new Promise((resolve) => {
        execFile(choice.command, ['-c', VERSION_PROBE], { env, timeout: 20_000 }, (error, stdout, stderr) => {
            if (error) {
                const detail = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (stderr.trim() || error.message).split('\n').slice(-1)[0];
                resolve(judgeProbe(choice, undefined, detail));
            } else {
                resolve(judgeProbe(choice, stdout, undefined));
            }
        });
    });
}
