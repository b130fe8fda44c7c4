// The server's inline completions, as VS Code shows them, and what becomes of each one.
//
// vscode-languageclient 9 ships inline completion as a proposed feature whose provider only
// implements `provideInlineCompletionItems`. This feature replaces it (one provider, never
// two) with the same provider plus the `inlineCompletionsAdditions` callbacks, which tell
// when an item is shown, partly accepted, and how its life ended. Registering those callbacks
// throws where the running VS Code does not enable the proposal for this extension: then the
// provider is registered without them and the stable fallback (wrapped dismiss and word/line
// accept commands) reports what it can. The server gets facts; it decides what they mean.
import {
    CancellationToken,
    commands,
    Disposable,
    DocumentSelector,
    InlineCompletionContext,
    InlineCompletionItem,
    InlineCompletionItemProvider,
    InlineCompletionList,
    languages,
    Position,
    ProviderResult,
    TextDocument,
    window,
    workspace,
} from 'vscode';
import { InlineCompletionRequest, InlineCompletionRegistrationOptions } from 'vscode-languageclient';
import { LanguageClient } from 'vscode-languageclient/node';
import { InlineCompletionItemFeature } from 'vscode-languageclient/lib/common/inlineCompletion';
import {
    DidEndCompletionParams,
    DidPartiallyAcceptParams,
    endOfLifetime,
    insertedLength,
    partialAccept,
    SuggestionRef,
    suggestionRefOf,
} from '../core/lifecycle';
import { traceDebug, traceInfo, traceWarn } from '../common/log';
import { registerCommand, setContext } from '../common/vscodeapi';
import { BridgeState } from './state';

export const BRIDGE_ACCEPT_COMMAND = 'edittrace.bridge.accepted';
export const CALLBACKS_CONTEXT_KEY = 'edittrace.inlineCallbacks';

/** The `inlineCompletionsAdditions` callbacks (not in the stable typings). */
interface LifecycleCallbacks {
    handleDidShowCompletionItem(item: InlineCompletionItem, updatedInsertText?: string): void;
    handleDidPartiallyAcceptCompletionItem(item: InlineCompletionItem, info: unknown): void;
    handleEndOfLifetime(item: InlineCompletionItem, reason: unknown): void;
}

type Notify = (method: string, params: object) => void;

/** Which suggestion each item shown is; filled by the middleware, read by the callbacks. */
const refsByItem = new WeakMap<InlineCompletionItem, SuggestionRef>();

export class InlineBridge {
    constructor(
        private readonly state: BridgeState,
        private readonly notify: Notify,
        private readonly executeServerCommand: (command: string, args: unknown[]) => Promise<unknown>,
    ) {}

    /** Middleware: remember which suggestion each item is, and route its accept through us. */
    async provideInlineCompletionItems(
        document: TextDocument,
        position: Position,
        context: InlineCompletionContext,
        token: CancellationToken,
        next: (document: TextDocument, position: Position, context: InlineCompletionContext, token: CancellationToken) => ProviderResult<InlineCompletionItem[] | InlineCompletionList>,
    ): Promise<InlineCompletionItem[] | InlineCompletionList | null | undefined> {
        const result = await next(document, position, context, token);
        const items = Array.isArray(result) ? result : (result?.items ?? []);
        const refs: SuggestionRef[] = [];
        for (const item of items) {
            const ref = suggestionRefOf(item.command);
            if (!ref) {
                continue;
            }
            refs.push(ref);
            refsByItem.set(item, ref);
            // The full accept runs this command; it is the server's, relayed with the same
            // arguments after noting which suggestion was accepted last.
            item.command = { title: item.command?.title ?? 'Accept', command: BRIDGE_ACCEPT_COMMAND, arguments: [ref] };
        }
        if (refs.length > 0) {
            this.state.lastOffered = { uri: document.uri.toString(), refs };
            if (new Set(refs.map((ref) => ref.candidate)).size > 1) {
                this.state.lastMultiCandidate = refs[0].suggestion;
            }
        }
        return result;
    }

    /** Registers the client's one provider, with the lifecycle callbacks when VS Code allows. */
    register(selector: DocumentSelector, provider: InlineCompletionItemProvider): Disposable {
        const callbacks: LifecycleCallbacks = {
            handleDidShowCompletionItem: (item) => this.withRef(item, (ref) => this.notify('edittrace/didShowCompletion', ref)),
            handleDidPartiallyAcceptCompletionItem: (item, info) => this.withRef(item, (ref) => this.partiallyAccepted(item, ref, info)),
            handleEndOfLifetime: (item, reason) =>
                this.withRef(item, (ref) => {
                    const params = endOfLifetime(ref, reason);
                    if (params) {
                        this.reportEnd(params);
                    }
                }),
        };
        try {
            const disposable = languages.registerInlineCompletionItemProvider(selector, Object.assign(provider, callbacks));
            this.setCallbacksLive(true);
            return disposable;
        } catch (error) {
            traceInfo('inline completion callbacks unavailable here (proposal inlineCompletionsAdditions not enabled); using the command fallback:', String(error));
            for (const name of Object.keys(callbacks)) {
                delete (provider as unknown as Record<string, unknown>)[name];
            }
            this.setCallbacksLive(false);
            return languages.registerInlineCompletionItemProvider(selector, provider);
        }
    }

    /**
     * VS Code 1.139 calls this twice per partial accept: first the old overload with the bare
     * length, then at once the new one with `{kind, acceptedLength}`. The bare length is held
     * for a microtask and dropped when the full form follows, so one accept is one report.
     */
    private readonly pendingBareLength = new Map<InlineCompletionItem, ReturnType<typeof partialAccept>>();

    private partiallyAccepted(item: InlineCompletionItem, ref: SuggestionRef, info: unknown): void {
        const params = partialAccept(ref, info);
        if (!params) {
            return;
        }
        if (typeof info === 'number') {
            this.pendingBareLength.set(item, params);
            queueMicrotask(() => {
                const pending = this.pendingBareLength.get(item);
                this.pendingBareLength.delete(item);
                if (pending) {
                    this.notify('edittrace/didPartiallyAcceptCompletion', pending);
                }
            });
            return;
        }
        this.pendingBareLength.delete(item);
        this.notify('edittrace/didPartiallyAcceptCompletion', params);
    }

    private setCallbacksLive(live: boolean): void {
        this.state.callbacksLive = live;
        void setContext(CALLBACKS_CONTEXT_KEY, live);
    }

    private withRef(item: InlineCompletionItem, use: (ref: SuggestionRef) => void): void {
        const ref = refsByItem.get(item) ?? suggestionRefOf(item.command);
        if (ref) {
            use(ref);
        }
    }

    private reportEnd(params: DidEndCompletionParams): void {
        if (params.reason === 'accepted') {
            this.state.lastAccepted = { suggestion: params.suggestion, candidate: params.candidate };
        }
        this.notify('edittrace/didEndCompletion', params);
    }

    /** The item's accept command: note it, then run the server's own command. */
    async accepted(ref: unknown): Promise<void> {
        const parsed = suggestionRefOf({ command: 'edittrace.suggestion.accepted', arguments: [ref] });
        if (!parsed) {
            return;
        }
        this.state.lastAccepted = parsed;
        if (!this.state.callbacksLive) {
            this.state.lastOffered = undefined;
        }
        await this.executeServerCommand('edittrace.suggestion.accepted', [parsed]);
    }

    /**
     * Stable-API fallback for the visible suggestion: the stable API does not say which item is
     * on screen, so the first item of the latest offer for the active document is reported
     * (the one VS Code shows first).
     */
    private visibleRef(): SuggestionRef | undefined {
        const uri = window.activeTextEditor?.document.uri.toString();
        const offered = this.state.lastOffered;
        return offered && offered.uri === uri ? offered.refs[0] : undefined;
    }

    async fallbackDismiss(): Promise<void> {
        const ref = this.visibleRef();
        await commands.executeCommand('editor.action.inlineSuggest.hide');
        if (ref && !this.state.callbacksLive) {
            this.state.lastOffered = undefined;
            this.reportEnd({ ...ref, reason: 'rejected', userTypingDisagreed: null });
        }
    }

    private readonly fallbackAccepted = new Map<string, number>();

    async fallbackPartialAccept(kind: 'word' | 'line'): Promise<void> {
        const ref = this.visibleRef();
        const document = window.activeTextEditor?.document;
        let inserted = 0;
        const listener = workspace.onDidChangeTextDocument((event) => {
            if (event.document === document) {
                inserted += insertedLength(event.contentChanges);
            }
        });
        try {
            await commands.executeCommand(kind === 'word' ? 'editor.action.inlineSuggest.acceptNextWord' : 'editor.action.inlineSuggest.acceptNextLine');
        } finally {
            listener.dispose();
        }
        if (ref && inserted > 0 && !this.state.callbacksLive) {
            // Counted from the candidate's start, as VS Code's own callback counts it.
            const key = `${ref.suggestion}:${ref.candidate}`;
            const soFar = (this.fallbackAccepted.get(key) ?? 0) + inserted;
            this.fallbackAccepted.set(key, soFar);
            const params: DidPartiallyAcceptParams = { ...ref, kind, acceptedLength: soFar };
            this.notify('edittrace/didPartiallyAcceptCompletion', params);
        }
    }

    registerCommands(): Disposable[] {
        return [
            registerCommand(BRIDGE_ACCEPT_COMMAND, (ref: unknown) => this.accepted(ref)),
            registerCommand('edittrace.inlineSuggest.hide', () => this.fallbackDismiss()),
            registerCommand('edittrace.inlineSuggest.acceptNextWord', () => this.fallbackPartialAccept('word')),
            registerCommand('edittrace.inlineSuggest.acceptNextLine', () => this.fallbackPartialAccept('line')),
        ];
    }
}

/**
 * The client's inline completion feature, with its one provider registered through the bridge.
 * The request itself is what vscode-languageclient's own feature sends.
 */
export class BridgedInlineCompletionFeature extends InlineCompletionItemFeature {
    constructor(
        client: LanguageClient,
        private readonly bridge: InlineBridge,
    ) {
        super(client);
    }

    protected registerLanguageProvider(options: InlineCompletionRegistrationOptions): [Disposable, InlineCompletionItemProvider] {
        const client = this._client;
        const provider: InlineCompletionItemProvider = {
            provideInlineCompletionItems: (document, position, context, token) => {
                const send = (document: TextDocument, position: Position, context: InlineCompletionContext, token: CancellationToken) =>
                    client.sendRequest(InlineCompletionRequest.type, client.code2ProtocolConverter.asInlineCompletionParams(document, position, context), token).then(
                        (result) => (token.isCancellationRequested ? null : client.protocol2CodeConverter.asInlineCompletionResult(result, token)),
                        (error) => client.handleFailedRequest(InlineCompletionRequest.type, token, error, null),
                    );
                const middleware = client.middleware.provideInlineCompletionItems;
                return middleware ? middleware(document, position, context, token, send) : send(document, position, context, token);
            },
        };
        const selector = client.protocol2CodeConverter.asDocumentSelector(options.documentSelector!);
        traceDebug('registering the inline completion provider');
        try {
            return [this.bridge.register(selector, provider), provider];
        } catch (error) {
            traceWarn('could not register the inline completion provider:', error);
            throw error;
        }
    }
}
