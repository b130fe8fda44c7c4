// Drives the replay viewer in headless Chromium as a researcher would, and reports what is on
// screen as JSON (tests/test_collector_viewer.py asserts on it). Usage:
//   NODE_PATH=$CACHE/pw/node_modules node replay_viewer.cjs LIST_URL SESSION SEQ ARTIFACTS_DIR
"use strict";
const { chromium } = require("playwright-core");

const [listUrl, session, seqText, artifacts] = process.argv.slice(2);
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

async function visibleDocument(page) {
  return page.evaluate(() => {
    const pre = document.getElementById("document");
    const pieces = Array.from(pre.children);
    return {
      text: pieces.filter((p) => !p.classList.contains("ghost")).map((p) => p.textContent).join(""),
      ghost: pieces.filter((p) => p.classList.contains("ghost")).map((p) => p.textContent).join(""),
      kinds: pieces.filter((p) => p.className.startsWith("prov-")).map((p) => [p.className.slice(5), p.textContent]),
      ghostColour: (() => { const g = pre.querySelector(".ghost"); return g ? getComputedStyle(g).color : null; })(),
      seq: document.getElementById("seq-input").value,
      readout: document.getElementById("readout").textContent,
      event: document.getElementById("event-info").textContent,
      onScreen: document.getElementById("on-screen").textContent,
    };
  });
}

async function waitForSeq(page, seq) {
  await page.waitForFunction((s) => document.getElementById("event-info").textContent.startsWith("#" + s + " "), seq);
}

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
  const report = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(90000);  // a loaded CI machine is slow, not broken
    await page.goto(listUrl);
    await page.waitForSelector("#sessions tbody tr");
    report.listRows = await page.$$eval("#sessions tbody tr", (rows) => rows.map((r) => r.innerText));
    await page.screenshot({ path: artifacts + "/replay-list.png", fullPage: true });

    await page.click("text=" + session);
    await page.waitForSelector("#track-suggestions .bar");
    await page.waitForFunction(() => document.getElementById("event-info").textContent !== "");
    report.viewerUrl = page.url();
    report.bars = await page.$$eval("#track-suggestions .bar", (bars) => bars.map((b) => ({
      suggestion: b.dataset.suggestion, candidate: Number(b.dataset.candidate), outcome: b.dataset.outcome,
      title: b.title, width: b.getBoundingClientRect().width, label: b.querySelector(".label").textContent,
      shownColour: b.querySelector(".shown") ? getComputedStyle(b.querySelector(".shown")).backgroundColor : null })));
    report.ratings = await page.$$eval("#track-ratings .marker", (m) => m.map((x) => x.textContent));
    report.comparisons = await page.$$eval("#track-comparisons .marker", (m) => m.map((x) => x.textContent));
    report.pauses = await page.$$eval("#track-pauses .pause", (m) => m.length);
    report.atEnd = await visibleDocument(page);
    await page.screenshot({ path: artifacts + "/replay-end.png", fullPage: true });

    // Type a seq into the box, as a person jumping to a known event.
    await page.fill("#seq-input", seqText);
    await page.press("#seq-input", "Enter");
    await waitForSeq(page, seqText);
    report.atSeq = await visibleDocument(page);
    await page.screenshot({ path: artifacts + "/replay-seq-" + seqText + ".png", fullPage: true });

    // One step forward with the keyboard.
    await page.click("header h1");
    await page.keyboard.press("ArrowRight");
    await waitForSeq(page, String(Number(seqText) + 1));
    report.afterStep = await visibleDocument(page);

    // Drag the scrubber to a third of the way.
    const box = await page.locator("#scrubber").boundingBox();
    await page.mouse.move(box.x + 8, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(() => {
      const seq = document.getElementById("seq-input").value;
      return document.getElementById("event-info").textContent.startsWith("#" + seq + " ");
    });
    report.afterScrub = await visibleDocument(page);
    await page.screenshot({ path: artifacts + "/replay-scrubbed.png", fullPage: true });

    // Click the accepted suggestion's bar: the viewer jumps to when it was shown.
    await page.click("#track-suggestions .bar.accepted");
    await page.waitForFunction(() => document.querySelector("#document .ghost") !== null);
    report.atAcceptedBar = await visibleDocument(page);
    await page.screenshot({ path: artifacts + "/replay-accepted-suggestion.png", fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report));
})().catch((error) => { console.error(error); process.exit(1); });
