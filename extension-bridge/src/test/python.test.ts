import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundledPythonPath, chooseInterpreter, judgeProbe, parseVersion } from '../core/python';

test('the setting wins, then the Python extension, then python3 on PATH', () => {
    assert.deepEqual(chooseInterpreter(' /opt/py/bin/python ', '/venv/bin/python'), { command: '/opt/py/bin/python', source: 'setting' });
    assert.deepEqual(chooseInterpreter('', '/venv/bin/python'), { command: '/venv/bin/python', source: 'python-extension' });
    assert.deepEqual(chooseInterpreter(undefined, undefined), { command: 'python3', source: 'path' });
});

test('versions are read from the probe output', () => {
    assert.deepEqual(parseVersion('3.11.7\n'), [3, 11, 7]);
    assert.equal(parseVersion('Python 3.11.7'), undefined);
});

test('3.11 and newer start; older or missing get one message with the fix', () => {
    const choice = { command: 'python3', source: 'path' as const };
    assert.deepEqual(judgeProbe(choice, '3.11.0\n', undefined), { ok: true, version: '3.11.0' });
    assert.deepEqual(judgeProbe(choice, '4.0.0', undefined), { ok: true, version: '4.0.0' });
    const old = judgeProbe(choice, '3.10.12', undefined);
    assert.equal(old.ok, false);
    assert.match(old.ok ? '' : old.message, /needs Python >= 3\.11.*is 3\.10\.12.*edittrace\.python\.interpreterPath/);
    const missing = judgeProbe({ command: '/nope/python', source: 'setting' }, undefined, 'not found');
    assert.match(missing.ok ? '' : missing.message, /"\/nope\/python" \(from edittrace\.python\.interpreterPath\) could not run: not found/);
});

test('bundled libraries come first on PYTHONPATH', () => {
    assert.equal(bundledPythonPath('/ext/bundled/libs', undefined, ':'), '/ext/bundled/libs');
    assert.equal(bundledPythonPath('/ext/bundled/libs', '/mine', ':'), '/ext/bundled/libs:/mine');
});
