import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endOfLifetime, insertedLength, partialAccept, suggestionRefOf } from '../core/lifecycle';

const ref = { suggestion: 's-1', candidate: 0 };

test('an item is known by the accept command the server attached', () => {
    assert.deepEqual(suggestionRefOf({ command: 'edittrace.suggestion.accepted', arguments: [{ suggestion: 's-1', candidate: 2 }] }), { suggestion: 's-1', candidate: 2 });
    assert.equal(suggestionRefOf({ command: 'other.command', arguments: [{ suggestion: 's-1', candidate: 0 }] }), undefined);
    assert.equal(suggestionRefOf({ command: 'edittrace.suggestion.accepted', arguments: [{ suggestion: 's-1', candidate: -1 }] }), undefined);
    assert.equal(suggestionRefOf({ command: 'edittrace.suggestion.accepted', arguments: [{ suggestion: '', candidate: 0 }] }), undefined);
    assert.equal(suggestionRefOf(undefined), undefined);
});

test('end of lifetime: kind 0 accepted, 1 rejected, 2 ignored with userTypingDisagreed', () => {
    assert.deepEqual(endOfLifetime(ref, { kind: 0 }), { ...ref, reason: 'accepted', userTypingDisagreed: null });
    assert.deepEqual(endOfLifetime(ref, { kind: 1 }), { ...ref, reason: 'rejected', userTypingDisagreed: null });
    assert.deepEqual(endOfLifetime(ref, { kind: 2, userTypingDisagreed: true }), { ...ref, reason: 'ignored', userTypingDisagreed: true });
    assert.deepEqual(endOfLifetime(ref, { kind: 2, userTypingDisagreed: false }), { ...ref, reason: 'ignored', userTypingDisagreed: false });
});

test('an end reason VS Code may add later is dropped, not guessed', () => {
    assert.equal(endOfLifetime(ref, { kind: 7 }), undefined);
    assert.equal(endOfLifetime(ref, undefined), undefined);
});

test('partial accepts: both overloads, word and line kinds', () => {
    assert.deepEqual(partialAccept(ref, 5), { ...ref, kind: 'word', acceptedLength: 5 });
    assert.deepEqual(partialAccept(ref, { kind: 1, acceptedLength: 4 }), { ...ref, kind: 'word', acceptedLength: 4 });
    assert.deepEqual(partialAccept(ref, { kind: 2, acceptedLength: 17 }), { ...ref, kind: 'line', acceptedLength: 17 });
    assert.equal(partialAccept(ref, { kind: 1 }), undefined);
    assert.equal(partialAccept(ref, -1), undefined);
});

test('inserted length sums what the changes added', () => {
    assert.equal(insertedLength([{ text: 'foo', rangeLength: 0 }, { text: '(x)', rangeLength: 1 }]), 6);
    assert.equal(insertedLength([]), 0);
});
