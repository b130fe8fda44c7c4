// The status bar's words for the server's `edittrace/status` notification. Pure.

export interface ServerStatus {
    recording: boolean;
    connected: boolean;
    queued: number;
    lastError: string | null;
}

export type StatusState = 'starting' | 'recording' | 'paused' | 'offline' | 'error' | 'stopped';

export interface StatusView {
    state: StatusState;
    text: string;
    tooltip: string;
}

/** Reads the notification's params leniently: a missing field keeps the safe reading. */
export function parseStatus(params: unknown): ServerStatus {
    const p = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>;
    return {
        recording: p.recording === true,
        connected: p.connected === true,
        queued: typeof p.queued === 'number' && p.queued >= 0 ? Math.floor(p.queued) : 0,
        lastError: typeof p.lastError === 'string' && p.lastError !== '' ? p.lastError : null,
    };
}

function queuedWords(queued: number): string {
    return `${queued} event${queued === 1 ? '' : 's'} queued`;
}

/**
 * Error wins (the person must act), then paused (they chose it), then offline (events wait
 * safely in the outbox), then recording.
 */
export function statusView(status: ServerStatus): StatusView {
    if (status.lastError) {
        return {
            state: 'error',
            text: '$(error) edittrace',
            tooltip: `edittrace: ${status.lastError}` + (status.queued ? ` (${queuedWords(status.queued)})` : ''),
        };
    }
    if (!status.recording) {
        return { state: 'paused', text: '$(debug-pause) edittrace paused', tooltip: 'edittrace: capture paused; click to resume' };
    }
    if (!status.connected) {
        return {
            state: 'offline',
            text: `$(cloud-offline) edittrace ${status.queued}`,
            tooltip: `edittrace: recording, collector offline, ${queuedWords(status.queued)}`,
        };
    }
    return {
        state: 'recording',
        text: '$(record) edittrace',
        tooltip: 'edittrace: recording' + (status.queued ? `, ${queuedWords(status.queued)}` : ', all delivered'),
    };
}

export function lifecycleView(state: 'starting' | 'stopped', detail?: string): StatusView {
    if (state === 'starting') {
        return { state, text: '$(sync~spin) edittrace', tooltip: 'edittrace: starting the language server' };
    }
    return { state, text: '$(circle-slash) edittrace', tooltip: `edittrace: not running${detail ? `: ${detail}` : ''}` };
}
