// Rating in place: "Rate…" (stars, the four rubric scores, a comment) and the thumbs keys on
// the last accepted suggestion. Everything is recorded by the server's `edittrace.suggestion.rate`.
import { Disposable, QuickPickItem, window } from 'vscode';
import { asSuggestionRef, SuggestionRef } from '../core/lifecycle';
import { isBareRateRequest, rateArgs, RatingPicks, RUBRIC_KEYS, RubricKey, starsLabel } from '../core/rating';
import { traceError } from '../common/log';
import { registerCommand } from '../common/vscodeapi';
import { BridgeState } from './state';

export const RATE_SERVER_COMMAND = 'edittrace.suggestion.rate';
export const RATE_COMMAND = 'edittrace.rate';

interface ScoreItem extends QuickPickItem {
    score: number | undefined;
}

const RUBRIC_TITLES: Record<RubricKey, string> = {
    correctness: 'Correctness: does it do the right thing?',
    efficiency: 'Efficiency: is it reasonably fast and lean?',
    maintainability: 'Maintainability: is it clear and idiomatic?',
    security: 'Security: is it free of unsafe patterns?',
};

function scoreItems(kind: 'stars' | 'rubric'): ScoreItem[] {
    const items: ScoreItem[] = [5, 4, 3, 2, 1].map((score) => ({
        label: kind === 'stars' ? `${starsLabel(score)}  ${score}` : `${score}`,
        description: ({ 5: 'excellent', 4: 'good', 3: 'acceptable', 2: 'poor', 1: 'bad' } as Record<number, string>)[score],
        score,
    }));
    items.push({ label: 'Skip', description: 'no score for this one', score: undefined });
    return items;
}

/** One step of the rating: undefined when the person pressed Escape (the rating is dropped). */
async function pickScore(title: string, kind: 'stars' | 'rubric', step: number, steps: number): Promise<ScoreItem | undefined> {
    return window.showQuickPick(scoreItems(kind), { title: `Rate suggestion (${step}/${steps})`, placeHolder: title, ignoreFocusOut: true });
}

export class Rating {
    constructor(
        private readonly state: BridgeState,
        private readonly executeServerCommand: (command: string, args: unknown[]) => Promise<unknown>,
    ) {}

    private target(args: unknown): SuggestionRef | { suggestion: string; candidate?: number } | undefined {
        const explicit = asSuggestionRef(args);
        if (explicit) {
            return explicit;
        }
        if (typeof args === 'object' && args !== null && typeof (args as Record<string, unknown>).suggestion === 'string') {
            return { suggestion: (args as Record<string, string>).suggestion };
        }
        return this.state.lastAccepted;
    }

    /** "Rate…": stars, then the rubric, then a comment; Escape anywhere sends nothing. */
    async rate(args?: unknown): Promise<boolean> {
        const target = this.target(args);
        if (!target) {
            void window.showInformationMessage('edittrace: no suggestion to rate yet. Accept one, then rate it.');
            return false;
        }
        const steps = 2 + RUBRIC_KEYS.length;
        const picks: RatingPicks = { rubric: {} };
        const stars = await pickScore('Overall, how good was this suggestion?', 'stars', 1, steps);
        if (!stars) {
            return false;
        }
        picks.stars = stars.score;
        for (const [index, key] of RUBRIC_KEYS.entries()) {
            const picked = await pickScore(RUBRIC_TITLES[key], 'rubric', index + 2, steps);
            if (!picked) {
                return false;
            }
            picks.rubric[key] = picked.score;
        }
        const comment = await window.showInputBox({
            title: `Rate suggestion (${steps}/${steps})`,
            prompt: 'A comment (optional): what was good or wrong? Enter to send, Escape to cancel.',
            ignoreFocusOut: true,
        });
        if (comment === undefined) {
            return false;
        }
        picks.comment = comment;
        const built = rateArgs(target.suggestion, target.candidate, picks);
        if (!built) {
            void window.showInformationMessage('edittrace: nothing picked, no rating recorded.');
            return false;
        }
        return this.send(built, 'rating recorded');
    }

    async thumbs(direction: 'up' | 'down'): Promise<boolean> {
        const target = this.state.lastAccepted;
        if (!target) {
            void window.showInformationMessage('edittrace: no accepted suggestion to rate yet.');
            return false;
        }
        return this.send({ ...target, thumbs: direction }, direction === 'up' ? '👍 recorded' : '👎 recorded');
    }

    private async send(args: object, done: string): Promise<boolean> {
        try {
            // Ratings given through the extension's own UI say so.
            await this.executeServerCommand(RATE_SERVER_COMMAND, [{ ...args, source: 'bridge' }]);
            window.setStatusBarMessage(`edittrace: ${done}`, 3000);
            return true;
        } catch (error) {
            traceError('rating failed:', error);
            void window.showErrorMessage(`edittrace: the rating was not recorded: ${error instanceof Error ? error.message : String(error)}`);
            return false;
        }
    }

    registerCommands(): Disposable[] {
        return [
            registerCommand(RATE_COMMAND, (args?: unknown) => this.rate(args)),
            registerCommand('edittrace.thumbsUp', () => this.thumbs('up')),
            registerCommand('edittrace.thumbsDown', () => this.thumbs('down')),
        ];
    }
}

/** A server CodeLens "Rate…" (the rate command with no score in it) opens our quick pick. */
export function routeRateLens<T extends { command?: { command: string; arguments?: unknown[]; title: string } }>(lens: T): T {
    const command = lens.command;
    if (command && command.command === RATE_SERVER_COMMAND && isBareRateRequest(command.arguments?.[0])) {
        lens.command = { ...command, command: RATE_COMMAND };
    }
    return lens;
}
