// Starting and restarting `edittrace lsp` (PYTHON -m edittrace.cli lsp, over stdio), modelled
// on Microsoft's Python tools extension template: createServer builds the client,
// restartServer stops the old one, checks the interpreter, and starts a new one.
import * as path from 'path';
import { commands, Disposable, ExtensionContext, LogOutputChannel, window } from 'vscode';
import {
    CloseAction,
    CloseHandlerResult,
    DidChangeConfigurationNotification,
    ErrorAction,
    ErrorHandlerResult,
    LanguageClient,
    LanguageClientOptions,
    Middleware,
    RevealOutputChannelOn,
    ServerOptions,
    State,
} from 'vscode-languageclient/node';
import { bundledPythonPath } from '../core/python';
import { JsonObject } from '../core/settings';
import { showLog, traceError, traceInfo } from './log';
import { findInterpreter, probeInterpreter } from './python';
import { workspaceRoot } from './vscodeapi';

export const SERVER_ID = 'edittrace';
export const SERVER_NAME = 'edittrace';

/** Restarts allowed after unexpected exits before the server is left stopped (no crash loop). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 3 * 60_000;

export interface ServerHooks {
    middleware: Middleware;
    /** Called with the new client before it starts: register features and notification handlers. */
    prepare(client: LanguageClient): Disposable[];
    onStopped(detail: string): void;
    onStarting(): void;
}

export function serverEnvironment(context: ExtensionContext): NodeJS.ProcessEnv {
    const libs = path.join(context.extensionPath, 'bundled', 'libs');
    return {
        ...process.env,
        PYTHONPATH: bundledPythonPath(libs, process.env.PYTHONPATH, path.delimiter),
        // The extension folder may be read-only, and output must not sit in a buffer.
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONUNBUFFERED: '1',
    };
}

export function createServer(interpreter: string, env: NodeJS.ProcessEnv, outputChannel: LogOutputChannel, initializationOptions: JsonObject, hooks: ServerHooks): LanguageClient {
    const serverOptions: ServerOptions = {
        command: interpreter,
        args: ['-m', 'edittrace.cli', 'lsp'],
        options: { cwd: workspaceRoot() ?? process.cwd(), env },
    };
    const exits: number[] = [];
    const clientOptions: LanguageClientOptions = {
        // The server decides what is in scope (capture.include/exclude, .gitignore).
        documentSelector: [{ scheme: 'file' }],
        outputChannel,
        traceOutputChannel: outputChannel,
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        initializationOptions,
        middleware: hooks.middleware,
        errorHandler: {
            error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue }),
            closed: (): CloseHandlerResult => {
                const now = Date.now();
                exits.push(now);
                while (exits.length > 0 && now - exits[0] > RESTART_WINDOW_MS) {
                    exits.shift();
                }
                if (exits.length <= MAX_RESTARTS) {
                    traceError(`the language server exited; restarting (${exits.length}/${MAX_RESTARTS})`);
                    return { action: CloseAction.Restart, handled: true };
                }
                const message = `edittrace: the language server exited ${exits.length} times in 3 minutes and was left stopped. See the log, then run "edittrace: Restart Language Server".`;
                hooks.onStopped('exited repeatedly');
                void window.showErrorMessage(message, 'Show Log').then((choice) => choice && showLog());
                return { action: CloseAction.DoNotRestart, handled: true };
            },
        },
    };
    return new LanguageClient(SERVER_ID, SERVER_NAME, serverOptions, clientOptions);
}

let disposables: Disposable[] = [];

export async function restartServer(context: ExtensionContext, outputChannel: LogOutputChannel, settings: JsonObject, hooks: ServerHooks, old?: LanguageClient): Promise<LanguageClient | undefined> {
    if (old) {
        traceInfo('stopping the language server');
        try {
            if (old.state !== State.Stopped) {
                await old.stop();
            }
        } catch (error) {
            traceError('stopping the old server failed:', error);
        }
        disposables.forEach((disposable) => disposable.dispose());
        disposables = [];
    }
    hooks.onStarting();
    const env = serverEnvironment(context);
    const choice = await findInterpreter(window.activeTextEditor?.document.uri);
    const probe = await probeInterpreter(choice, env);
    if (!probe.ok) {
        // One message per (re)start attempt, never a loop: the server is not started.
        traceError(probe.message);
        hooks.onStopped('no suitable Python');
        void window.showErrorMessage(probe.message, 'Open Setting', 'Show Log').then(async (picked) => {
            if (picked === 'Open Setting') {
                await commands.executeCommand('workbench.action.openSettings', 'edittrace.python.interpreterPath');
            } else if (picked === 'Show Log') {
                showLog();
            }
        });
        return undefined;
    }
    traceInfo(`starting: ${choice.command} -m edittrace.cli lsp (Python ${probe.version}, from ${choice.source})`);
    const client = createServer(choice.command, env, outputChannel, settings, hooks);
    disposables.push(...hooks.prepare(client));
    disposables.push(
        client.onDidChangeState((event) => {
            if (event.newState === State.Stopped) {
                hooks.onStopped('stopped');
            }
        }),
    );
    try {
        await client.start();
    } catch (error) {
        traceError('the language server did not start:', error);
        hooks.onStopped('did not start');
        void window.showErrorMessage('edittrace: the language server did not start. See the log.', 'Show Log').then((choice) => choice && showLog());
        return undefined;
    }
    return client;
}

/** Sends changed settings the way the server reads them (nested under `settings`). */
export function sendSettings(client: LanguageClient, settings: JsonObject): Promise<void> {
    return client.sendNotification(DidChangeConfigurationNotification.type, { settings });
}
