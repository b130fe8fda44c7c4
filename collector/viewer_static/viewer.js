// The replay viewer. It draws what the collector's replay API computes and nothing more:
// the timeline comes from /replay/api/SESSION/events, each moment from .../state?seq=N.
"use strict";
(function () {
  const session = window.EDITTRACE.session;
  const token = new URLSearchParams(location.search).get("token");
  const suffix = token ? "?token=" + encodeURIComponent(token) : "";
  const base = "/replay/api/" + encodeURIComponent(session) + "/";
  const $ = (id) => document.getElementById(id);
  const LABEL_WIDTH = 110;
  let timeline = null;
  let runningMax = [];
  let currentSeq = 1;
  let selectedUri = null;
  let requested = 0;

  // 202 means the collector is still replaying (a long session's first pass): ask again.
  function get(path, query) {
    const params = new URLSearchParams(query || {});
    if (token) params.set("token", token);
    return fetch(base + path + "?" + params.toString()).then((response) =>
      response.json().then((body) => {
        if (response.status === 202) {
          $("readout").textContent = "preparing the replay\u2026";
          return new Promise((resolve) => setTimeout(resolve, 500)).then(() => get(path, query));
        }
        if (!response.ok) throw new Error(body.error + (body.seq ? " at seq " + body.seq : "") + ": " + (body.detail || ""));
        return body;
      }));
  }

  // --- time <-> seq <-> x --------------------------------------------------------------
  const span = () => Math.max(1, timeline.last_ts - timeline.first_ts);
  const fraction = (ts) => (ts - timeline.first_ts) / span();
  const tsOf = (seq) => timeline.ts[Math.max(1, Math.min(seq, timeline.last_seq)) - 1];
  function seqAt(ts) { // the last seq whose time (running max) is <= ts
    let low = 0, high = runningMax.length;
    while (low < high) { const mid = (low + high) >> 1; if (runningMax[mid] <= ts) low = mid + 1; else high = mid; }
    return Math.max(1, low);
  }
  function clock(ts) {
    const seconds = (ts - timeline.first_ts) / 1000;
    const minutes = Math.floor(seconds / 60);
    return minutes + ":" + (seconds - minutes * 60).toFixed(1).padStart(4, "0");
  }

  // --- lanes -----------------------------------------------------------------------------
  function place(element, fromTs, toTs) {
    element.style.left = (fraction(fromTs) * 100).toFixed(3) + "%";
    if (toTs !== undefined) element.style.width = Math.max(0, (fraction(toTs) - fraction(fromTs)) * 100).toFixed(3) + "%";
  }
  function drawLanes() {
    const lanes = timeline.lanes;
    const suggestions = $("track-suggestions");
    for (const c of lanes.suggestions) {
      const bar = document.createElement("div");
      const outcome = c.outcome || "open";
      bar.className = "bar " + outcome;
      bar.dataset.suggestion = c.suggestion;
      bar.dataset.candidate = c.candidate;
      bar.dataset.outcome = outcome;
      const end = c.ended_ts !== null ? c.ended_ts : timeline.last_ts;
      place(bar, c.offered_ts, end);
      bar.style.top = (3 + 16 * Math.min(c.candidate, 2)) + "px";
      const onScreen = c.shown_ms !== null ? ", on screen " + (c.shown_ms / 1000).toFixed(1) + " s" : "";
      bar.title = c.suggestion + " #" + c.candidate + " (" + (c.model || "?") + "): " + outcome + onScreen + "\n" + c.text;
      if (c.shown_ts !== null && end > c.offered_ts) {
        const shown = document.createElement("div");
        shown.className = "shown";
        shown.style.left = ((c.shown_ts - c.offered_ts) / (end - c.offered_ts) * 100) + "%";
        shown.style.right = "0";
        bar.appendChild(shown);
      }
      // A label says the outcome and time on screen where the bar is wide enough to hold it.
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = outcome + (c.shown_ms !== null ? " " + (c.shown_ms / 1000).toFixed(1) + " s" : "");
      bar.appendChild(label);
      bar.addEventListener("click", (event) => { event.stopPropagation(); show(c.shown_seq || c.offered_seq); });
      suggestions.appendChild(bar);
    }
    for (const r of lanes.ratings) {
      const marker = document.createElement("div");
      marker.className = "marker rating";
      const parts = [];
      if (r.thumbs) parts.push(r.thumbs === "up" ? "\u{1F44D}" : "\u{1F44E}");
      if (r.stars) parts.push(r.stars + "\u2605");
      if (r.comment) parts.push("\u201C" + r.comment + "\u201D");
      marker.textContent = parts.join(" ") || "rating";
      marker.title = "rating of " + r.suggestion;
      place(marker, r.ts);
      $("track-ratings").appendChild(marker);
    }
    for (const c of lanes.comparisons) {
      const marker = document.createElement("div");
      marker.className = "marker comparison";
      marker.textContent = c.choice === "candidate" ? "chose #" + c.candidate : c.choice.replace("_", " ");
      marker.title = "comparison of " + c.suggestion + ", order " + JSON.stringify(c.order || []);
      place(marker, c.ts);
      $("track-comparisons").appendChild(marker);
    }
    for (const p of lanes.pauses) {
      const bar = document.createElement("div");
      bar.className = "pause";
      place(bar, p.from_ts, p.to_ts !== null ? p.to_ts : timeline.last_ts);
      bar.title = "capture paused";
      $("track-pauses").appendChild(bar);
    }
    drawEdits();
    const playhead = document.createElement("div");
    playhead.id = "playhead";
    $("lanes").appendChild(playhead);
    for (const track of document.querySelectorAll(".track")) {
      track.addEventListener("click", (event) => {
        const box = track.getBoundingClientRect();
        show(seqAt(timeline.first_ts + (event.clientX - box.left) / box.width * span()));
      });
    }
  }
  function drawEdits() {
    const canvas = document.querySelector("canvas.edits");
    const box = canvas.parentElement.getBoundingClientRect();
    canvas.width = Math.max(1, Math.floor(box.width));
    canvas.height = Math.max(1, Math.floor(box.height));
    const context = canvas.getContext("2d");
    const styles = getComputedStyle(document.documentElement);
    const colours = {
      typed: styles.getPropertyValue("--typed"), accepted: styles.getPropertyValue("--accepted"),
      pasted: styles.getPropertyValue("--pasted"), deleted: styles.getPropertyValue("--unrecorded"),
    };
    for (const edit of timeline.lanes.edits) {
      context.fillStyle = colours[edit.kind] || colours.typed;
      const x = Math.floor(fraction(edit.ts) * (canvas.width - 1));
      const height = edit.kind === "typed" ? canvas.height / 2 : canvas.height;
      context.fillRect(x, canvas.height - height, 1, height);
    }
  }

  // --- the moment --------------------------------------------------------------------------
  function show(seq) {
    currentSeq = Math.max(1, Math.min(seq, timeline.last_seq));
    const ts = tsOf(currentSeq);
    $("scrubber").value = String(ts - timeline.first_ts);
    $("seq-input").value = String(currentSeq);
    $("playhead").style.left = "calc(" + LABEL_WIDTH + "px + " + fraction(ts).toFixed(5) + " * (100% - " + LABEL_WIDTH + "px))";
    showReadout(currentSeq);
    const ticket = ++requested;
    get("state", { seq: currentSeq })
      .then((state) => { if (ticket === requested) drawState(state); })
      .catch((error) => { if (ticket === requested) showError(String(error)); });
  }
  function showReadout(seq) {
    $("readout").textContent = "seq " + seq + " / " + timeline.last_seq + "   t " + clock(tsOf(seq));
  }
  function showError(message) {
    const pre = $("document");
    pre.textContent = "";
    const line = document.createElement("span");
    line.className = "error";
    line.textContent = message;
    pre.appendChild(line);
  }
  function lastEditedUri(seq) {
    const edits = timeline.lanes.edits;
    let low = 0, high = edits.length;
    while (low < high) { const mid = (low + high) >> 1; if (edits[mid].seq <= seq) low = mid + 1; else high = mid; }
    return low > 0 ? edits[low - 1].uri : null;
  }
  function drawState(state) {
    showReadout(state.seq);
    const uris = state.documents.map((d) => d.uri);
    let uri = uris.includes(selectedUri) ? selectedUri : lastEditedUri(state.seq);
    if (!uris.includes(uri)) uri = uris[0] || null;
    const tabs = $("doc-tabs");
    tabs.textContent = "";
    for (const candidate of uris) {
      const button = document.createElement("button");
      button.textContent = candidate.split("/").pop();
      button.title = candidate;
      if (candidate === uri) button.className = "current";
      button.addEventListener("click", () => { selectedUri = candidate; drawState(state); });
      tabs.appendChild(button);
    }
    const document_ = state.documents.find((d) => d.uri === uri);
    const ghost = state.suggestions.find((s) => s.shown && s.uri === uri);
    drawDocument(document_, ghost);
    const onScreen = $("on-screen");
    onScreen.textContent = "";
    for (const s of state.suggestions) {
      const line = document.createElement("div");
      line.textContent = s.suggestion + " #" + s.candidate + " " + (s.shown ? "shown" : "offered") + " (" + (s.model || "?") + "): " + s.text;
      onScreen.appendChild(line);
    }
    if (!state.suggestions.length) onScreen.textContent = "nothing";
    $("event-info").textContent = "#" + state.seq + " " + timeline.types[state.seq - 1] + (state.paused ? " (capture paused)" : "");
  }
  function drawDocument(document_, ghost) {
    const pre = $("document");
    pre.textContent = "";
    if (!document_) { pre.textContent = "(no open document)"; return; }
    const cursor = document_.cursor_offset;
    let offset = 0;
    const addText = (text, kind) => {
      if (!text) return;
      const piece = document.createElement("span");
      piece.className = "prov-" + kind;
      piece.textContent = text;
      pre.appendChild(piece);
    };
    const addMark = (at) => {
      if (cursor === at) {
        const mark = document.createElement("span");
        mark.className = "cursor";
        pre.appendChild(mark);
      }
      if (ghost && ghost.ghost_offset === at) {
        const piece = document.createElement("span");
        piece.className = "ghost";
        piece.textContent = ghost.ghost_text;
        piece.dataset.suggestion = ghost.suggestion;
        pre.appendChild(piece);
      }
    };
    for (const [text, kind] of document_.segments) {
      // Offsets from the API count code points; Array.from splits a string the same way.
      const points = Array.from(text);
      let from = 0;
      for (let index = 0; index < points.length; index++) {
        const at = offset + index;
        if ((ghost && ghost.ghost_offset === at) || cursor === at) {
          addText(points.slice(from, index).join(""), kind);
          addMark(at);
          from = index;
        }
      }
      addText(points.slice(from).join(""), kind);
      offset += points.length;
    }
    addMark(offset);
    // Keep the cursor (where the action is) in the middle of the pane.
    const mark = pre.querySelector(".cursor") || pre.querySelector(".ghost");
    if (mark) pre.scrollTop = Math.max(0, mark.offsetTop - pre.offsetTop - pre.clientHeight / 2);
  }

  // --- controls ------------------------------------------------------------------------------
  function start(answer) {
    timeline = answer;
    let running = -Infinity;
    runningMax = timeline.ts.map((ts) => (running = Math.max(running, ts)));
    $("session-id").textContent = session;
    $("back").href = "/replay/" + suffix;
    $("scrubber").max = String(span());
    $("seq-input").max = String(timeline.last_seq);
    drawLanes();
    $("scrubber").addEventListener("input", () => show(seqAt(timeline.first_ts + Number($("scrubber").value))));
    $("seq-input").addEventListener("change", () => show(Number($("seq-input").value)));
    document.addEventListener("keydown", (event) => {
      if (event.target instanceof HTMLInputElement) return;
      const step = event.shiftKey ? 50 : 1;
      if (event.key === "ArrowRight") show(currentSeq + step);
      else if (event.key === "ArrowLeft") show(currentSeq - step);
    });
    window.addEventListener("resize", drawEdits);
    const initial = Number(new URLSearchParams(location.search).get("seq")) || timeline.last_seq;
    show(initial);
  }
  get("events").then(start).catch((error) => {
    $("document").textContent = "could not load the session: " + error;
  });
})();
