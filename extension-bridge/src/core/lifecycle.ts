// What VS Code tells about an inline suggestion, turned into the facts the language server
// records. Pure: no `vscode` import, so node's test runner covers it. No metrics here: the
// extension only relays what the editor showed; the server decides what it means.

/** The command every server-made inline item carries on a full accept. */
export const ACCEPT_COMMAND = 'edittrace.suggestion.accepted';

/** Which suggestion (one offer) and which of its candidates an inline item is. */
export interface SuggestionRef {
    suggestion: string;
    candidate: number;
}

/** Reads `{suggestion, candidate}` from an item's command, as the server attaches it. */
export function suggestionRefOf(command: { command: string; arguments?: unknown[] } | undefined): SuggestionRef | undefined {
    if (!command || command.command !== ACCEPT_COMMAND || !Array.isArray(command.arguments)) {
        return undefined;
    }
    return asSuggestionRef(command.arguments[0]);
}

export function asSuggestionRef(value: unknown): SuggestionRef | undefined {
    if (typeof value !== 'object' || value === null) {
        return undefined;
    }
    const { suggestion, candidate } = value as Record<string, unknown>;
    if (typeof suggestion !== 'string' || suggestion === '') {
        return undefined;
    }
    if (typeof candidate !== 'number' || !Number.isInteger(candidate) || candidate < 0) {
        return undefined;
    }
    return { suggestion, candidate };
}

export type EndReason = 'accepted' | 'rejected' | 'ignored';

export interface DidEndCompletionParams extends SuggestionRef {
    reason: EndReason;
    userTypingDisagreed: boolean | null;
}

/**
 * `handleEndOfLifetime(item, reason)`: `{kind: 0}` accepted, `{kind: 1}` rejected (explicit
 * dismiss), `{kind: 2, userTypingDisagreed}` ignored (superseded). Unknown kinds are dropped
 * rather than guessed.
 */
export function endOfLifetime(ref: SuggestionRef, reason: unknown): DidEndCompletionParams | undefined {
    if (typeof reason !== 'object' || reason === null) {
        return undefined;
    }
    const { kind, userTypingDisagreed } = reason as Record<string, unknown>;
    const names: Record<number, EndReason> = { 0: 'accepted', 1: 'rejected', 2: 'ignored' };
    const name = typeof kind === 'number' ? names[kind] : undefined;
    if (!name) {
        return undefined;
    }
    return {
        ...ref,
        reason: name,
        userTypingDisagreed: typeof userTypingDisagreed === 'boolean' ? userTypingDisagreed : null,
    };
}

export type PartialKind = 'word' | 'line';

export interface DidPartiallyAcceptParams extends SuggestionRef {
    kind: PartialKind;
    acceptedLength: number;
}

/**
 * `handleDidPartiallyAcceptCompletionItem` has two overloads: `(item, acceptedLength: number)`
 * (older, no kind: it was always a word) and `(item, {kind, acceptedLength})` with
 * PartialAcceptTriggerKind 1 = word, 2 = line, 3 = suggest widget (reported as word: the
 * server's vocabulary has only word and line).
 */
export function partialAccept(ref: SuggestionRef, info: unknown): DidPartiallyAcceptParams | undefined {
    if (typeof info === 'number') {
        return info >= 0 ? { ...ref, kind: 'word', acceptedLength: info } : undefined;
    }
    if (typeof info !== 'object' || info === null) {
        return undefined;
    }
    const { kind, acceptedLength } = info as Record<string, unknown>;
    if (typeof acceptedLength !== 'number' || acceptedLength < 0) {
        return undefined;
    }
    return { ...ref, kind: kind === 2 ? 'line' : 'word', acceptedLength };
}

/** Text inserted by a set of document changes: what a word/line accept added, for the fallback. */
export function insertedLength(changes: ReadonlyArray<{ text: string; rangeLength: number }>): number {
    let total = 0;
    for (const change of changes) {
        total += change.text.length;
    }
    return total;
}
