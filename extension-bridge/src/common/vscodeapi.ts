// Thin wrappers over the vscode API, so the rest reads as what it does (and so there is one
// place that knows the configuration section and the secret's key).
import { commands, Disposable, ExtensionContext, workspace, WorkspaceConfiguration } from 'vscode';

export const SECTION = 'edittrace';
export const TOKEN_SECRET_KEY = 'edittrace.collector.token';

export function getConfiguration(): WorkspaceConfiguration {
    return workspace.getConfiguration(SECTION);
}

/** The whole `edittrace.*` tree as a plain nested object (what `getConfiguration` holds). */
export function configurationObject(): Record<string, unknown> {
    const configuration = getConfiguration();
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(configuration)) {
        if (typeof value !== 'function') {
            plain[key] = value;
        }
    }
    return JSON.parse(JSON.stringify(plain)) as Record<string, unknown>;
}

export function registerCommand(command: string, callback: (...args: any[]) => unknown): Disposable {
    return commands.registerCommand(command, callback);
}

export function setContext(key: string, value: unknown): Thenable<unknown> {
    return commands.executeCommand('setContext', key, value);
}

export async function readToken(context: ExtensionContext): Promise<string | undefined> {
    return context.secrets.get(TOKEN_SECRET_KEY);
}

export function workspaceRoot(): string | undefined {
    return workspace.workspaceFolders?.[0]?.uri.fsPath;
}
