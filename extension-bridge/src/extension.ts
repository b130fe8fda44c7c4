// edittrace for VS Code: starts `edittrace lsp`, relays what VS Code shows of its suggestions,
// and gives rating, comparison and capture control a place in the editor. Every figure is
// computed by the server and the collector; this side only reports facts.
import { CodeLens, Disposable, ExtensionContext, window, workspace } from 'vscode';
import { ExecuteCommandRequest, LanguageClient, Middleware, State } from 'vscode-languageclient/node';
import { createLog, showLog, traceError, traceInfo } from './common/log';
import { restartServer, sendSettings } from './common/server';
import { configurationObject, readToken, registerCommand, SECTION, TOKEN_SECRET_KEY } from './common/vscodeapi';
import { redactedSettings, serverSettings, JsonObject } from './core/settings';
import { Comparison } from './bridge/compare';
import { BridgedInlineCompletionFeature, InlineBridge } from './bridge/inline';
import { Rating, routeRateLens } from './bridge/rating';
import { BridgeState } from './bridge/state';
import { StatusBar } from './bridge/status';

let client: LanguageClient | undefined;

export function activate(context: ExtensionContext): void {
    const log = createLog();
    context.subscriptions.push(log);
    const state = new BridgeState();
    const status = new StatusBar(state);
    context.subscriptions.push(status);

    const executeServerCommand = async (command: string, args: unknown[]): Promise<unknown> => {
        if (!client || client.state !== State.Running) {
            throw new Error('the edittrace language server is not running');
        }
        return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    };
    const notify = (method: string, params: object): void => {
        if (client?.state === State.Running) {
            void client.sendNotification(method, params).catch((error: unknown) => traceError(`${method} failed:`, error));
        }
    };
    const settings = async (): Promise<JsonObject> => serverSettings(configurationObject(), await readToken(context));

    const inline = new InlineBridge(state, notify, executeServerCommand);
    const rating = new Rating(state, executeServerCommand);
    const comparison = new Comparison(state, executeServerCommand);

    const middleware: Middleware = {
        provideInlineCompletionItems: (document, position, context, token, next) => inline.provideInlineCompletionItems(document, position, context, token, next),
        provideCodeLenses: async (document, token, next) => {
            const lenses = await next(document, token);
            return lenses?.map((lens: CodeLens) => routeRateLens(lens));
        },
        resolveCodeLens: async (lens, token, next) => {
            const resolved = await next(lens, token);
            return resolved ? routeRateLens(resolved) : resolved;
        },
        workspace: {
            // A server that pulls `edittrace` settings gets the token from SecretStorage too.
            configuration: async (params, token, next) => {
                const result = await next(params, token);
                if (!Array.isArray(result)) {
                    return result;
                }
                const current = await settings();
                return params.items.map((item, index) => (item.section === SECTION ? current : result[index]));
            },
        },
    };

    const start = async (): Promise<void> => {
        const current = await settings();
        traceInfo('settings:', redactedSettings(current));
        client = await restartServer(
            context,
            log,
            current,
            {
                middleware,
                onStarting: () => status.starting(),
                onStopped: (detail) => status.stopped(detail),
                prepare: (newClient) => {
                    newClient.registerFeature(new BridgedInlineCompletionFeature(newClient, inline));
                    return [newClient.onNotification('edittrace/status', (params: unknown) => status.update(params))];
                },
            },
            client,
        );
    };

    const pushSettings = async (): Promise<void> => {
        if (client?.state === State.Running) {
            const current = await settings();
            traceInfo('settings changed:', redactedSettings(current));
            await sendSettings(client, current);
        }
    };

    const captureCommand = (command: string) => async (): Promise<void> => {
        try {
            await executeServerCommand(command, []);
        } catch (error) {
            void window.showErrorMessage(`edittrace: ${error instanceof Error ? error.message : String(error)}`);
        }
    };

    context.subscriptions.push(
        ...inline.registerCommands(),
        ...rating.registerCommands(),
        ...comparison.registerCommands(),
        ...status.registerCommands(),
        registerCommand('edittrace.pause', captureCommand('edittrace.capture.pause')),
        registerCommand('edittrace.resume', captureCommand('edittrace.capture.resume')),
        registerCommand('edittrace.showLog', () => showLog()),
        registerCommand('edittrace.restart', () => start()),
        registerCommand('edittrace.setToken', async () => {
            const token = await window.showInputBox({
                title: 'edittrace: collector token',
                prompt: 'The token your researcher gave you (kept in VS Code\'s secret storage). Empty to remove it.',
                password: true,
                ignoreFocusOut: true,
            });
            if (token === undefined) {
                return;
            }
            if (token.trim() === '') {
                await context.secrets.delete(TOKEN_SECRET_KEY);
            } else {
                await context.secrets.store(TOKEN_SECRET_KEY, token.trim());
            }
            window.setStatusBarMessage('edittrace: token saved', 3000);
        }),
        context.secrets.onDidChange((event) => {
            if (event.key === TOKEN_SECRET_KEY) {
                void pushSettings();
            }
        }),
        workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration(`${SECTION}.python`)) {
                void start();
            } else if (event.affectsConfiguration(SECTION)) {
                void pushSettings();
            }
        }),
        new Disposable(() => void client?.stop()),
    );
    // Not awaited: activation ends at once (commands run without waiting for the server),
    // and the status bar tells how the start goes.
    void start();
}

export async function deactivate(): Promise<void> {
    if (client && client.state !== State.Stopped) {
        await client.stop();
    }
}
