import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBareRateRequest, rateArgs, starsLabel } from '../core/rating';
import { candidateTexts, chooseArgs, drawOrder, escapeHtml, panelLabel } from '../core/compare';

test('a rating holds only what was picked', () => {
    assert.deepEqual(rateArgs('s', 0, { stars: 4, rubric: { correctness: 5, security: undefined }, comment: '  fine ' }), {
        suggestion: 's',
        candidate: 0,
        stars: 4,
        rubric: { correctness: 5 },
        comment: 'fine',
    });
    assert.equal(rateArgs('s', 0, { stars: undefined, rubric: {}, comment: '' }), undefined);
    assert.equal(rateArgs('s', undefined, { stars: 9, rubric: { efficiency: 0 } }), undefined);
    assert.deepEqual(rateArgs('s', undefined, { rubric: { efficiency: 2 } }), { suggestion: 's', rubric: { efficiency: 2 } });
});

test('"Rate…" lenses carry no score; thumbs lenses do', () => {
    assert.equal(isBareRateRequest({ suggestion: 's' }), true);
    assert.equal(isBareRateRequest({ suggestion: 's', candidate: 1 }), true);
    assert.equal(isBareRateRequest({ suggestion: 's', thumbs: 'up' }), false);
    assert.equal(isBareRateRequest(undefined), false);
    assert.equal(starsLabel(3), '★★★☆☆');
});

test('comparison order is a permutation drawn at random', () => {
    assert.deepEqual(drawOrder(3, () => 0), [1, 2, 0]);
    assert.deepEqual(drawOrder(2, () => 0.99), [0, 1]);
    for (let i = 0; i < 20; i++) {
        assert.deepEqual([...drawOrder(4)].sort(), [0, 1, 2, 3]);
    }
});

test('the candidate recorded is the offer index, not the panel position', () => {
    assert.deepEqual(chooseArgs('s', [1, 0], 0, 1234.4), { suggestion: 's', choice: 'candidate', candidate: 1, order: [1, 0], decisionMs: 1234 });
    assert.deepEqual(chooseArgs('s', [1, 0], 'tie', 10), { suggestion: 's', choice: 'tie', order: [1, 0], decisionMs: 10 });
    assert.deepEqual(chooseArgs('s', [1, 0], 'both_bad', -5), { suggestion: 's', choice: 'both_bad', order: [1, 0], decisionMs: 0 });
    assert.equal(chooseArgs('s', [1, 0], 2, 10), undefined);
});

test('panels are labelled by letter and their text is escaped', () => {
    assert.equal(panelLabel(0), 'Suggestion A');
    assert.equal(panelLabel(1), 'Suggestion B');
    assert.equal(escapeHtml('<a href="x">&</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
    assert.deepEqual(candidateTexts(['a', 'b']), ['a', 'b']);
    assert.deepEqual(candidateTexts({ candidates: [{ text: 'a' }, { text: 'b', arm: 'hidden' }] }), ['a', 'b']);
    assert.equal(candidateTexts([1]), undefined);
});
