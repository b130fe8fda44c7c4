// Blind comparison of the candidates one request returned: shown side by side, labelled by
// letter only, in a random order; the choice and the time taken go to
// `edittrace.comparison.choose`.
import { randomBytes } from 'crypto';
import { Disposable, ViewColumn, window } from 'vscode';
import { candidateTexts, chooseArgs, drawOrder, escapeHtml, panelLabel } from '../core/compare';
import { traceError } from '../common/log';
import { registerCommand } from '../common/vscodeapi';
import { BridgeState } from './state';

type Picked = number | 'tie' | 'both_bad';

function page(texts: string[], order: number[], nonce: string): string {
    const panels = order
        .map(
            (candidate, position) => `
      <section>
        <h2>${panelLabel(position)}</h2>
        <pre>${escapeHtml(texts[candidate])}</pre>
        <button data-pick="${position}">${panelLabel(position)} is better</button>
      </section>`,
        )
        .join('');
    return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); }
  .row { display: flex; gap: 1em; }
  section { flex: 1; min-width: 0; border: 1px solid var(--vscode-panel-border); padding: 0.5em; }
  pre { font-family: var(--vscode-editor-font-family); white-space: pre-wrap; background: var(--vscode-textCodeBlock-background); padding: 0.5em; min-height: 4em; }
  button { margin: 0.3em 0.3em 0 0; }
</style></head>
<body>
  <p>Which suggestion would you rather have? (Their sources are hidden.)</p>
  <div class="row">${panels}</div>
  <p><button data-pick="tie">Tie</button><button data-pick="both_bad">Both bad</button></p>
  <script nonce="${nonce}">
    const vscode = acquireVsCodeApi();
    const shownAt = performance.now();
    for (const button of document.querySelectorAll('button')) {
      button.addEventListener('click', () => {
        const raw = button.dataset.pick;
        const picked = raw === 'tie' || raw === 'both_bad' ? raw : Number(raw);
        vscode.postMessage({ picked, decisionMs: performance.now() - shownAt });
      });
    }
  </script>
</body></html>`;
}

export class Comparison {
    constructor(
        private readonly state: BridgeState,
        private readonly executeServerCommand: (command: string, args: unknown[]) => Promise<unknown>,
    ) {}

    async compare(args?: unknown): Promise<void> {
        const explicit = typeof args === 'object' && args !== null ? (args as Record<string, unknown>).suggestion : undefined;
        const suggestion = typeof explicit === 'string' ? explicit : this.state.lastMultiCandidate;
        if (!suggestion) {
            void window.showInformationMessage('edittrace: no suggestion with several candidates to compare yet.');
            return;
        }
        let texts: string[] | undefined;
        try {
            texts = candidateTexts(await this.executeServerCommand('edittrace.suggestion.candidates', [{ suggestion }]));
        } catch (error) {
            traceError('could not fetch candidates:', error);
        }
        if (!texts || texts.length < 2) {
            void window.showInformationMessage('edittrace: this suggestion has fewer than two candidates to compare.');
            return;
        }
        const order = drawOrder(texts.length);
        const panel = window.createWebviewPanel('edittrace.compare', 'Compare suggestions', ViewColumn.Beside, { enableScripts: true });
        panel.webview.html = page(texts, order, randomBytes(16).toString('hex'));
        panel.webview.onDidReceiveMessage(async (message: { picked: Picked; decisionMs: number }) => {
            const built = chooseArgs(suggestion, order, message.picked, message.decisionMs);
            if (!built) {
                return;
            }
            try {
                await this.executeServerCommand('edittrace.comparison.choose', [built]);
                window.setStatusBarMessage('edittrace: choice recorded', 3000);
                panel.dispose();
            } catch (error) {
                traceError('comparison choice failed:', error);
                void window.showErrorMessage(`edittrace: the choice was not recorded: ${error instanceof Error ? error.message : String(error)}`);
            }
        });
    }

    registerCommands(): Disposable[] {
        return [registerCommand('edittrace.compare', (args?: unknown) => this.compare(args))];
    }
}
