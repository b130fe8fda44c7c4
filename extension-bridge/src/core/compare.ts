// Blind side-by-side comparison: which candidate goes left and which right, and what is
// recorded when the person chooses. Arms are never known here. Pure.

export type Choice = 'candidate' | 'tie' | 'both_bad';

export interface ChooseArgs {
    suggestion: string;
    choice: Choice;
    candidate?: number;
    order: number[];
    decisionMs: number;
}

/** A display order of candidate indices, drawn at random (position bias is large). */
export function drawOrder(count: number, random: () => number = Math.random): number[] {
    const order = Array.from({ length: count }, (_, index) => index);
    for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
}

/**
 * `picked` is what the page reported: a panel's position (0 = first shown), 'tie' or
 * 'both_bad'. The candidate recorded is the index in the offer, not the position.
 */
export function chooseArgs(suggestion: string, order: number[], picked: number | 'tie' | 'both_bad', decisionMs: number): ChooseArgs | undefined {
    const elapsed = Math.max(0, Math.round(decisionMs));
    if (picked === 'tie' || picked === 'both_bad') {
        return { suggestion, choice: picked, order: [...order], decisionMs: elapsed };
    }
    if (!Number.isInteger(picked) || picked < 0 || picked >= order.length) {
        return undefined;
    }
    return { suggestion, choice: 'candidate', candidate: order[picked], order: [...order], decisionMs: elapsed };
}

/** Panel labels: letters, never arm or model names. */
export function panelLabel(position: number): string {
    return `Suggestion ${String.fromCharCode(65 + position)}`;
}

/** Candidate texts from `edittrace.suggestion.candidates`: a list of strings, or of `{text}`. */
export function candidateTexts(result: unknown): string[] | undefined {
    const list = Array.isArray(result)
        ? result
        : typeof result === 'object' && result !== null && Array.isArray((result as Record<string, unknown>).candidates)
          ? ((result as Record<string, unknown>).candidates as unknown[])
          : undefined;
    if (!list) {
        return undefined;
    }
    const texts: string[] = [];
    for (const entry of list) {
        if (typeof entry === 'string') {
            texts.push(entry);
        } else if (typeof entry === 'object' && entry !== null && typeof (entry as Record<string, unknown>).text === 'string') {
            texts.push((entry as Record<string, unknown>).text as string);
        } else {
            return undefined;
        }
    }
    return texts;
}

export function escapeHtml(text: string): string {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
