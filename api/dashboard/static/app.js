// Behaviour of the pages, kept out of the HTML so the Content-Security-Policy can refuse every inline script.
// Each part wires itself to the elements it finds; values come from data-* attributes and the csrf-token meta.
"use strict";

const csrfToken = () => document.querySelector("meta[name=csrf-token]").content;
const lang = document.documentElement.lang || "ja";

// Upload form on the call list: progress bar, then the new call's page.
const upload = document.getElementById("upload");
if (upload) {
  upload.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const xhr = new XMLHttpRequest();
    const bar = document.getElementById("bar"), msg = document.getElementById("msg");
    bar.hidden = false;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = 100 * e.loaded / e.total; };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText || "{}"); } catch (e) { body = {}; }
      if (xhr.status < 300) { location.href = "/calls/" + encodeURIComponent(body.id) + "?lang=" + encodeURIComponent(lang); }
      else { msg.textContent = body.error ? body.error.message + " " + body.error.hint : xhr.statusText; bar.hidden = true; }
    };
    xhr.open("POST", "/api/calls");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.send(new FormData(upload));
  });
}

// Retry of a failed call.
document.querySelectorAll("button[data-retry]").forEach((button) => button.addEventListener("click", async () => {
  await fetch("/api/calls/" + encodeURIComponent(button.dataset.retry) + "/retry",
    {method: "POST", headers: {"X-CSRF-Token": csrfToken()}});
  location.reload();
}));

// Speaker names and roles.
const speakers = document.getElementById("speakers");
if (speakers) {
  speakers.addEventListener("submit", async (e) => {
    e.preventDefault();
    // A masked name (redacted view) left empty is kept as it is, not cleared.
    const rows = [...speakers.querySelectorAll("tr[data-label]")].map((tr) => {
      const input = tr.querySelector("[name=name]");
      const name = input.hasAttribute("data-masked") && input.value === "" ? null : input.value;
      return {label: tr.dataset.label, name: name, role: tr.querySelector("[name=role]").value};
    });
    const r = await fetch("/api/calls/" + encodeURIComponent(speakers.dataset.call) + "/speakers", {method: "PATCH",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()}, body: JSON.stringify({speakers: rows})});
    if (r.ok) location.reload(); else alert((await r.json()).error.message);
  });
}

// Links with a time (minutes evidence, transcript rows): play from there and mark the utterance.
document.querySelectorAll("a[data-start]").forEach((a) => a.addEventListener("click", () => {
  const player = document.getElementById("player");
  if (player) { player.currentTime = parseFloat(a.dataset.start); player.play(); }
  const row = document.querySelector(a.getAttribute("href"));
  if (row) { row.classList.add("hit"); setTimeout(() => row.classList.remove("hit"), 2000); }
}));

// Pages showing calls still in progress reload until they are done.
const busy = document.querySelector("[data-reload-after]");
if (busy) setTimeout(() => location.reload(), parseInt(busy.dataset.reloadAfter, 10));
