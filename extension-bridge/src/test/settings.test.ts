import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactedSettings, serverSettings } from '../core/settings';

const configuration = {
    collector: { url: 'ws://127.0.0.1:9/v1/stream', token: '' },
    capture: { persistenceCheckpoints: [2, 4], include: [] },
    outbox: { path: '', holdBackSeconds: 1 },
    python: { interpreterPath: '/usr/bin/python3' },
};

test('settings travel nested, without extension-only keys or empty strings', () => {
    const settings = serverSettings(configuration, undefined);
    assert.deepEqual(settings, {
        collector: { url: 'ws://127.0.0.1:9/v1/stream' },
        capture: { persistenceCheckpoints: [2, 4], include: [] },
        outbox: { holdBackSeconds: 1 },
    });
});

test('the secret token fills an empty token setting; a set one wins', () => {
    assert.equal((serverSettings(configuration, ' secret ').collector as Record<string, unknown>).token, 'secret');
    const explicit = { ...configuration, collector: { url: 'ws://x', token: 'from-setting' } };
    assert.equal((serverSettings(explicit, 'secret').collector as Record<string, unknown>).token, 'from-setting');
    assert.equal(serverSettings({}, 'secret').collector !== undefined, true);
    assert.equal(serverSettings({}, undefined).collector, undefined);
});

test('the configuration given is not changed, and the log never shows the token', () => {
    const before = JSON.stringify(configuration);
    const settings = serverSettings(configuration, 'secret');
    assert.equal(JSON.stringify(configuration), before);
    assert.equal((redactedSettings(settings).collector as Record<string, unknown>).token, '***');
    assert.equal((settings.collector as Record<string, unknown>).token, 'secret');
});
