import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lifecycleView, parseStatus, statusView } from '../core/status';

test('recording and connected', () => {
    const view = statusView(parseStatus({ recording: true, connected: true, queued: 0, lastError: null }));
    assert.equal(view.state, 'recording');
    assert.match(view.tooltip, /all delivered/);
});

test('offline shows how many events wait in the outbox', () => {
    const view = statusView(parseStatus({ recording: true, connected: false, queued: 42, lastError: null }));
    assert.equal(view.state, 'offline');
    assert.match(view.text, /42/);
    assert.match(view.tooltip, /42 events queued/);
    assert.match(statusView(parseStatus({ recording: true, connected: false, queued: 1 })).tooltip, /1 event queued/);
});

test('paused wins over offline; an error wins over everything', () => {
    assert.equal(statusView(parseStatus({ recording: false, connected: false, queued: 3 })).state, 'paused');
    const error = statusView(parseStatus({ recording: false, connected: false, queued: 3, lastError: 'token revoked' }));
    assert.equal(error.state, 'error');
    assert.match(error.tooltip, /token revoked/);
    assert.match(error.tooltip, /3 events queued/);
});

test('a malformed notification reads as safe defaults', () => {
    assert.deepEqual(parseStatus(null), { recording: false, connected: false, queued: 0, lastError: null });
    assert.deepEqual(parseStatus({ queued: -4, lastError: '' }), { recording: false, connected: false, queued: 0, lastError: null });
});

test('lifecycle views', () => {
    assert.equal(lifecycleView('starting').state, 'starting');
    assert.match(lifecycleView('stopped', 'no suitable Python').tooltip, /no suitable Python/);
});
