// Drives a real VS Code (code-server) in Debian's Chromium as a person would, through
// playwright-core: opens a source file, types until the edittrace builtin provider's ghost text
// appears, accepts with Tab, dismisses with Escape, accepts a word with Ctrl+Right, edits an
// accepted line, rates through the CodeLens quick pick, gives a thumbs up with the keybinding,
// and pauses and resumes capture from the status bar. Screenshots go to ARTIFACTS.
//
// Then, as a researcher's setup would, two arms are configured (by editing the user's
// settings.json) and the person compares the candidates of one offer side by side.
//
// Environment: URL (code-server with ?folder=...), FILE (name to open), ARTIFACTS (folder),
// PLAYWRIGHT_DIR (where playwright-core is installed), CHROMIUM (browser binary),
// SETTINGS (the user's settings.json), ARMS (JSON of edittrace.provider.arms).
// Prints one JSON line per step on stdout; exits non-zero with the reason on failure.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const { URL, FILE, ARTIFACTS, PLAYWRIGHT_DIR, CHROMIUM, SETTINGS, ARMS } = process.env;
const require = createRequire(join(PLAYWRIGHT_DIR, 'noop.js'));
const { chromium } = require('playwright-core');

const KEY_DELAY_MS = 80; // a brisk typist
const GHOST = '.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text';
let shots = 0;

function log(step, data = {}) {
    console.log(JSON.stringify({ step, t: Math.round(performance.now()), ...data }));
}

const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });

async function shot(name) {
    shots += 1;
    const path = join(ARTIFACTS, `${String(shots).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path });
    return path;
}

async function notifications() {
    return page.locator('.notification-toast, .notifications-list-container .monaco-list-row').allInnerTexts().catch(() => []);
}

async function fail(message) {
    await shot('failure').catch(() => undefined);
    console.error(message);
    console.error('notifications on screen:', JSON.stringify(await notifications()));
    await browser.close();
    process.exit(1);
}

// The extension's own item (a status bar message such as "edittrace: rating recorded" is another).
const status = () => page.locator('[id="edittrace.edittrace.edittrace.status"]');

async function waitForStatus(icon, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const html = await status().innerHTML().catch(() => '');
        if (html.includes(`codicon-${icon}`)) {
            return (await status().getAttribute('aria-label')) ?? html;
        }
        await page.waitForTimeout(250);
    }
    await fail(`the edittrace status bar item never showed ${icon}; it shows: ${await status().innerHTML().catch(() => 'nothing')}`);
}

async function ghostText() {
    const parts = await page.locator(GHOST).allInnerTexts();
    return parts.join('').replace(/\u00a0/g, ' '); // the editor renders spaces as NBSP
}

/**
 * Types one of `lines` a key at a time, as a person writing code the workspace already knows,
 * and stops as soon as ghost text is on screen (and `wanted` holds for it). The builtin model
 * may stay silent on a line: then the line is cleared and the next one is tried.
 */
async function typeUntilGhost(lines, what, wanted = () => true) {
    for (const text of lines) {
        let typed = '';
        for (const ch of text) {
            await page.keyboard.type(ch, { delay: KEY_DELAY_MS });
            typed += ch;
            await page.waitForTimeout(40);
            if ((await page.locator(GHOST).count()) > 0) {
                await page.waitForTimeout(400); // let the person read it (and the show be reported)
                const ghost = await ghostText();
                if ((await page.locator(GHOST).count()) > 0 && wanted(ghost)) {
                    log(what, { typed, ghost });
                    return { typed, ghost };
                }
            }
        }
        await page.keyboard.press('Escape');
        await page.keyboard.press('Shift+Home');
        await page.keyboard.press('Delete');
        log('no ghost text, next line', { what, typed });
    }
    await fail(`no ghost text appeared while typing any of ${JSON.stringify(lines)} (for ${what})`);
}

/** Back to the file, cursor at its end (Ctrl+1: the first editor group). */
async function focusEditor() {
    await page.keyboard.press('Control+1');
    await page.locator('.monaco-editor.focused').waitFor({ timeout: 10_000 });
    await page.keyboard.press('Control+End');
}

/** Ends the line and starts the next one at the left margin. */
async function newLine() {
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Shift+Tab');
}

/**
 * Waits for the quick input whose title or rows show `expect` (so keys never go to the one
 * that is closing), types `filter`, and picks the first row left.
 */
async function pickInQuickInput(expect, filter) {
    const widget = page.locator('.quick-input-widget:visible', { hasText: expect }).first();
    await widget.waitFor({ timeout: 10_000 });
    await page.keyboard.type(filter, { delay: 30 });
    await page.locator('.quick-input-widget:visible .monaco-list-row', { hasText: filter }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
}

async function statusMenu(filter) {
    await status().click();
    await pickInQuickInput('Show log', filter);
}

try {
    // --- start: the workbench and the extension's status --------------------------------------
    await page.goto(URL);
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    const ready = await waitForStatus('record', 120_000);
    log('recording', { status: ready });
    await shot('recording');

    // --- open the file ----------------------------------------------------------------------------
    await page.keyboard.press('Control+P');
    await page.keyboard.type(FILE, { delay: 30 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: FILE }).first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Enter');
    await page.locator('.monaco-editor.focused').waitFor({ timeout: 30_000 });
    await page.keyboard.press('Control+End');
    await newLine();
    log('opened', { file: FILE });

    // --- 1. accept with Tab, then edit the accepted text at once -----------------------------------
    await typeUntilGhost(['class CapturePaused(EventData):', 'def _describe(hint: Any) -> str:', 'class Candidate(Record):'], 'accept');
    await page.keyboard.press('Tab');
    await page.waitForTimeout(300);
    // Fixes the end of what was accepted at once, well before the first checkpoint (2 s).
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('Z:', { delay: KEY_DELAY_MS });
    log('edited the accepted line');
    await shot('accepted-then-edited');
    await newLine();

    // --- 2. dismiss with Escape ---------------------------------------------------------------------
    await typeUntilGhost(['def encode_frame(frame: Frame) -> bytes:', 'def _matches(value: Any, hint: Any) -> bool:', 'class SessionEnd(EventData):'], 'dismiss');
    await shot('before-dismiss');
    await page.keyboard.press('Escape');
    await page.waitForTimeout(400);
    if ((await page.locator(GHOST).count()) > 0) {
        await fail('Escape did not dismiss the ghost text');
    }
    log('dismissed');
    await newLine();

    // --- 3. accept one word with Ctrl+Right, then type something else -----------------------------
    // A ghost of two words or more, so one word of it is a part.
    const twoWords = (ghost) => /\w\W+\w/.test(ghost.trim());
    const partial = await typeUntilGhost(['def _describe(hint: Any) -> str:', 'def _matches(value: Any, hint: Any) -> bool:', 'class DocSave(EventData):'], 'partial', twoWords);
    await page.keyboard.press('Control+ArrowRight');
    await page.waitForTimeout(400);
    await shot('word-accepted');
    log('word accepted', { before: partial.ghost, after: await ghostText() });
    await page.keyboard.type('  # mine', { delay: KEY_DELAY_MS });
    await newLine();

    // --- 4. a second accept, left as it is -----------------------------------------------------------
    await typeUntilGhost(['class CaptureResumed(EventData):', 'class DocClose(EventData):', 'def _describe(hint: Any) -> str:'], 'accept-kept');
    await page.keyboard.press('Tab');
    await page.waitForTimeout(400);
    await newLine();
    await shot('accepted-kept');

    // --- 5. rate through the CodeLens "Rate…" quick pick --------------------------------------------
    const rateLens = page.locator('.codelens-decoration a', { hasText: 'Rate' }).first();
    await rateLens.waitFor({ timeout: 20_000 });
    await rateLens.click();
    await pickInQuickInput('(1/6)', '4'); // stars
    const rubric = ['5', '4', '3', '5']; // correctness, efficiency, maintainability, security
    for (const [index, score] of rubric.entries()) {
        if (index === 0) {
            await page.locator('.quick-input-widget:visible', { hasText: '(2/6)' }).first().waitFor({ timeout: 10_000 });
            await shot('rating');
        }
        await pickInQuickInput(`(${index + 2}/6)`, score);
    }
    await page.locator('.quick-input-widget:visible', { hasText: '(6/6)' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.type('clear and correct', { delay: 20 });
    await page.keyboard.press('Enter');
    log('rated');

    // --- 6. thumbs up for the last accepted suggestion (keybinding) ---------------------------------
    await focusEditor();
    await page.keyboard.press('Control+Alt+U');
    await page.waitForTimeout(500);
    log('thumbs up');

    // --- 7. pause, type, resume -----------------------------------------------------------------------
    await statusMenu('Pause');
    log('paused', { status: await waitForStatus('debug-pause', 15_000) });
    await shot('paused');
    await focusEditor();
    await page.keyboard.type('typed_while_paused = 1', { delay: KEY_DELAY_MS });
    await page.keyboard.press('Enter');
    await statusMenu('Resume');
    log('resumed', { status: await waitForStatus('record', 15_000) });
    await focusEditor();
    await page.keyboard.type('after_resume = 2', { delay: KEY_DELAY_MS });
    await page.keyboard.press('Control+S');
    await page.waitForTimeout(500);
    await shot('resumed');

    // --- 8. two arms: compare the candidates of one offer side by side ---------------------------
    // In settings.json, through VS Code (its own save is seen at once; a file watcher may lag).
    const settings = JSON.parse(readFileSync(SETTINGS, 'utf8'));
    settings['edittrace.provider.arms'] = JSON.parse(ARMS);
    await page.keyboard.press('F1');
    await pickInQuickInput('', 'Open User Settings (JSON)');
    // Into the settings editor's text (the file's editor may still hold the focus while it opens).
    await page.locator('.view-line', { hasText: 'security.workspace.trust.enabled' }).first().click({ timeout: 15_000 });
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify(settings)); // pasted, one line
    // The JSON editor may add closing characters after the cursor: they go too.
    await page.keyboard.press('Shift+Control+End');
    await page.keyboard.press('Delete');
    await page.keyboard.press('Control+S');
    for (let i = 0; i < 100 && !readFileSync(SETTINGS, 'utf8').includes('arm-alpha'); i++) {
        await page.waitForTimeout(100);
    }
    if (!readFileSync(SETTINGS, 'utf8').includes('arm-alpha')) {
        await fail('settings.json was not saved with the arms');
    }
    await shot('settings-arms');
    await page.keyboard.press('Control+W');
    // code-server may ask again about the (already saved) file on close: save it.
    const settingsEditor = page.locator('.monaco-breadcrumbs', { hasText: 'settings.json' }).first();
    const save = page.locator('.monaco-dialog-box button', { hasText: /^Save$/ });
    for (let i = 0; i < 100; i++) {
        if (await save.isVisible()) {
            await save.click();
        } else if (i > 15 && !(await settingsEditor.isVisible())) {
            break;
        }
        await page.waitForTimeout(100);
    }
    await page.waitForTimeout(1000); // the extension sends the change; the server makes the arms
    await focusEditor();
    await newLine();
    await typeUntilGhost(['class SessionStart(EventData):', 'def _describe(hint: Any) -> str:', 'class DocOpen(EventData):'], 'two arms');
    await page.keyboard.press('F1');
    await pickInQuickInput('', 'Compare Suggestion Candidates');
    const panel = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
    const pick = panel.locator('button', { hasText: 'Suggestion A is better' });
    await pick.waitFor({ timeout: 20_000 });
    await page.waitForTimeout(700); // reading both
    await shot('comparison');
    const shownText = await panel.locator('body').innerText();
    await pick.click();
    await page.locator('.tab', { hasText: 'Compare suggestions' }).waitFor({ state: 'hidden', timeout: 10_000 });
    log('compared', { shownText });

} catch (error) {
    await fail(`step failed: ${error instanceof Error ? error.stack : String(error)}`);
}
const onScreen = await notifications();
await browser.close();
log('done', { screenshots: shots, notifications: onScreen });
