// The session list: one row per session, linking to its viewer (carrying the token on).
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token");
  const suffix = token ? "?token=" + encodeURIComponent(token) : "";
  const cell = (row, text) => { const td = row.insertCell(); td.textContent = text; return td; };
  // 202: the collector is busy replaying; ask again shortly.
  const load = () => fetch("/replay/api/sessions" + suffix).then((response) => {
    if (response.status === 202) return new Promise((resolve) => setTimeout(resolve, 500)).then(load);
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  });
  load()
    .then((answer) => {
      const body = document.querySelector("#sessions tbody");
      for (const s of answer.sessions) {
        const row = body.insertRow();
        const link = document.createElement("a");
        link.href = "/replay/" + encodeURIComponent(s.id) + suffix;
        link.textContent = s.id;
        row.insertCell().appendChild(link);
        cell(row, s.contractor);
        cell(row, new Date(s.started_ms).toISOString().replace("T", " ").slice(0, 19));
        cell(row, s.events);
        cell(row, s.suggestions);
        cell(row, s.languages.join(", "));
        cell(row, s.models.join(", "));
      }
      document.getElementById("status").textContent = answer.sessions.length + " sessions";
    })
    .catch((error) => { document.getElementById("status").textContent = "could not load sessions: " + error; });
})();
