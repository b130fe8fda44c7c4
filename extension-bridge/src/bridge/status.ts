// The status bar item: recording, paused, offline with N queued, or error. Click: a menu.
import { commands, Disposable, QuickPickItem, StatusBarAlignment, StatusBarItem, ThemeColor, window } from 'vscode';
import { lifecycleView, parseStatus, ServerStatus, StatusView, statusView } from '../core/status';
import { registerCommand } from '../common/vscodeapi';
import { BridgeState } from './state';

export const STATUS_MENU_COMMAND = 'edittrace.statusMenu';

export class StatusBar implements Disposable {
    private readonly item: StatusBarItem;
    private last: ServerStatus | undefined;

    constructor(private readonly state: BridgeState) {
        this.item = window.createStatusBarItem('edittrace.status', StatusBarAlignment.Right, 100);
        this.item.name = 'edittrace';
        this.item.command = STATUS_MENU_COMMAND;
        this.show(lifecycleView('starting'));
        this.item.show();
    }

    /** The server's `edittrace/status` notification. */
    update(params: unknown): void {
        this.last = parseStatus(params);
        this.state.recording = this.last.recording;
        this.show(statusView(this.last));
    }

    starting(): void {
        this.show(lifecycleView('starting'));
    }

    stopped(detail?: string): void {
        this.show(lifecycleView('stopped', detail));
    }

    private show(view: StatusView): void {
        this.item.text = view.text;
        this.item.tooltip = view.tooltip;
        this.item.backgroundColor = view.state === 'error' ? new ThemeColor('statusBarItem.errorBackground') : view.state === 'offline' || view.state === 'stopped' ? new ThemeColor('statusBarItem.warningBackground') : undefined;
    }

    async menu(): Promise<void> {
        const items: (QuickPickItem & { command: string })[] = [
            this.state.recording
                ? { label: '$(debug-pause) Pause capture', command: 'edittrace.pause' }
                : { label: '$(record) Resume capture', command: 'edittrace.resume' },
            { label: '$(key) Set collector token…', command: 'edittrace.setToken' },
            { label: '$(output) Show log', command: 'edittrace.showLog' },
            { label: '$(debug-restart) Restart language server', command: 'edittrace.restart' },
        ];
        const picked = await window.showQuickPick(items, { title: this.item.tooltip?.toString() ?? 'edittrace', placeHolder: 'edittrace' });
        if (picked) {
            await commands.executeCommand(picked.command);
        }
    }

    registerCommands(): Disposable[] {
        return [registerCommand(STATUS_MENU_COMMAND, () => this.menu())];
    }

    dispose(): void {
        this.item.dispose();
    }
}
