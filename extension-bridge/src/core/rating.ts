// Arguments for the server's `edittrace.suggestion.rate` and `edittrace.comparison.choose`
// commands, built from what the person picked. Pure.

export const RUBRIC_KEYS = ['correctness', 'efficiency', 'maintainability', 'security'] as const;
export type RubricKey = (typeof RUBRIC_KEYS)[number];

export interface RateArgs {
    suggestion: string;
    candidate?: number;
    thumbs?: 'up' | 'down';
    stars?: number;
    rubric?: Partial<Record<RubricKey, number>>;
    comment?: string;
}

export interface RatingPicks {
    stars?: number;
    rubric: Partial<Record<RubricKey, number>>;
    comment?: string;
}

function score(value: number | undefined): number | undefined {
    return value !== undefined && Number.isInteger(value) && value >= 1 && value <= 5 ? value : undefined;
}

/** Only what was picked goes in; nothing picked at all gives undefined (nothing to send). */
export function rateArgs(suggestion: string, candidate: number | undefined, picks: RatingPicks): RateArgs | undefined {
    const args: RateArgs = { suggestion };
    if (candidate !== undefined) {
        args.candidate = candidate;
    }
    const stars = score(picks.stars);
    if (stars !== undefined) {
        args.stars = stars;
    }
    const rubric: Partial<Record<RubricKey, number>> = {};
    for (const key of RUBRIC_KEYS) {
        const value = score(picks.rubric[key]);
        if (value !== undefined) {
            rubric[key] = value;
        }
    }
    if (Object.keys(rubric).length > 0) {
        args.rubric = rubric;
    }
    const comment = picks.comment?.trim();
    if (comment) {
        args.comment = comment;
    }
    return Object.keys(args).length > (candidate !== undefined ? 2 : 1) ? args : undefined;
}

/** A "Rate…" lens: the rate command with nothing but the suggestion (and candidate) in it. */
export function isBareRateRequest(args: unknown): boolean {
    if (typeof args !== 'object' || args === null) {
        return false;
    }
    const keys = Object.keys(args).filter((key) => (args as Record<string, unknown>)[key] !== undefined);
    return typeof (args as Record<string, unknown>).suggestion === 'string' && keys.every((key) => key === 'suggestion' || key === 'candidate');
}

export function starsLabel(stars: number): string {
    return '★'.repeat(stars) + '☆'.repeat(5 - stars);
}
