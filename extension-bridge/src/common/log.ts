// One LogOutputChannel ("edittrace") for the extension and the server's stderr and logMessages.
import { LogOutputChannel, window } from 'vscode';

let channel: LogOutputChannel | undefined;

export function createLog(): LogOutputChannel {
    channel = window.createOutputChannel('edittrace', { log: true });
    return channel;
}

function render(parts: unknown[]): string {
    return parts.map((part) => (part instanceof Error ? (part.stack ?? part.message) : typeof part === 'string' ? part : JSON.stringify(part))).join(' ');
}

export function traceError(...parts: unknown[]): void {
    channel?.error(render(parts));
}
export function traceWarn(...parts: unknown[]): void {
    channel?.warn(render(parts));
}
export function traceInfo(...parts: unknown[]): void {
    channel?.info(render(parts));
}
export function traceDebug(...parts: unknown[]): void {
    channel?.debug(render(parts));
}
export function showLog(): void {
    channel?.show(true);
}
