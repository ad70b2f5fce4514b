// Draws nothing itself: the race page's wiring. Follows a race's stream and hands its messages to
// race-view.js (the lanes side by side and the shared loss chart), keeps the bar's step and status,
// and sends the controls (with the race's token) to /api/races. Emits nothing.

import { send, tokens } from "./api.js";
import { controlTakes } from "./keys.js";
import { labelPaces, stepsPerEpoch, stepsPerSecond } from "./pace.js";
import { createRaceView } from "./race-view.js";
import { createStream } from "./stream.js";

const $ = (id) => document.getElementById(id);
const root = $("race");
const params = new URLSearchParams(location.search);
const race = { id: root.dataset.race, token: null, stream: null, perEpoch: 1 };   // perEpoch: lane 1's steps an epoch
const view = createRaceView($("race-view"), race, {
  copy,
  chartHeight: () => Math.max(90, Math.min(document.body.classList.contains("projector") ? 170 : 140, window.innerHeight * 0.19)),
});
let timer = null;

const api = (method, path, body) => send(method, `/api/races/${race.id}${path}`, body, race.token);

function message(text) {
  const box = $("race-message");
  box.textContent = text;
  box.hidden = !text;
  clearTimeout(timer);
  if (text) timer = setTimeout(() => { box.hidden = true; }, 10000);
}

/** The lanes and the chart are race-view.js's; the bar's counters and buttons are the page's. */
function onMessage(msg) {
  view.onMessage(msg);
  if (msg.type === "race_state") {
    $("race-vary").textContent = msg.race.vary.replace("_", " ");
    $("race-code").textContent = msg.race.join_code;
    race.perEpoch = stepsPerEpoch(msg.lanes.find(Boolean));   // the lanes step together: in lane 1's epochs
    labelPaces($("race-pace"), race.perEpoch);
    race.session = msg.race.session;   // started from it: its class follows this race
    $("race-back").hidden = !race.session;
  } else if (msg.type === "race_frame") {
    $("race-step-count").textContent = race.step;
    $("race-status").textContent = race.status;
    $("race-play").textContent = race.playing ? "❚❚ pause" : "▶ play";
  }
}

// Links at the address students reach (app/classroom/reach.py, as the share panel's); this tab's only when
// the server has none (it listens on this computer alone).
const publicURL = (path) => `${root.dataset.publicUrl || location.origin}${path}`;

function follow() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  race.stream = createStream(`${scheme}://${location.host}/api/races/${race.id}/stream`, { other: onMessage });
  $("race-link").href = publicURL(`/race/${race.id}`);
  $("race-qr").src = $("race-qr-link").href = `/api/races/${race.id}/qr.svg`;
  $("race-qr-link").hidden = false;
}

document.addEventListener("connection", ({ detail }) => {
  if (detail.up) return message("");
  if (detail.gone) {
    race.stream.close();
    $("race-status").textContent = "ended";
    return message("This race has ended.");
  }
  $("race-status").textContent = "server away";
  message(`The server is away — reconnecting in ${(detail.retryIn / 1000).toFixed(1)} s…`);
});

async function call(fn) {
  try {
    return await fn();
  } catch (err) {
    message(err.message);
    return null;
  }
}

const speed = () => stepsPerSecond($("race-pace").value === "max" ? null : Number($("race-pace").value), race.perEpoch);
const commands = {
  play: () => call(() => (race.playing ? api("POST", "/pause", {}) : api("POST", "/play", { speed: speed() }))),
  step: () => call(() => api("POST", "/step", { steps: 1 })),
  reset: () => call(() => api("POST", "/reset", {})),
  back: async () => {   // the race ends (its session's followers are sent back), then so do we
    await call(() => api("DELETE", ""));
    location.assign(`/?session=${encodeURIComponent(race.session)}${params.get("projector") === "1" ? "&projector=1" : ""}`);
  },
  save: async () => {
    const saved = await call(() => api("POST", "/save", {}));
    if (!saved) return;
    $("race-saved").hidden = false;
    $("race-saved-link").href = $("race-saved-link").textContent = publicURL(saved.url);
  },
};

/** "make my own copy" of one lane: a session of one's own at its state, in the playground. */
async function copy(laneId) {
  const made = await call(() => send("POST", `/api/sessions/${laneId}/copy`, {}));
  if (!made) return;
  tokens.put(made.id, made.token);
  location.assign(`/?session=${encodeURIComponent(made.id)}${params.get("projector") === "1" ? "&projector=1" : ""}`);
}

function setBig(big) {
  document.body.classList.toggle("projector", big);
  $("race-projector").checked = big;
  view.setBig(big);
}

function controlsFor(token) {
  race.token = token;
  $("race-controls").hidden = !token;
  $("race-watching").hidden = !!token;
  if (!token) return;
  for (const name of Object.keys(commands)) $(`race-${name}`).addEventListener("click", () => commands[name]());
  $("race-pace").addEventListener("change", () => race.playing && call(() => api("POST", "/play", { speed: speed() })));
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || controlTakes(e)) return;
    const key = { " ": "play", s: "step", r: "reset" }[e.key];
    if (key) { e.preventDefault(); commands[key](); }
  });
}

$("race-projector").addEventListener("change", (e) => {
  setBig(e.target.checked);
  params.set("projector", e.target.checked ? "1" : "0");
  history.replaceState(null, "", `${location.pathname}?${params}`);
});
window.addEventListener("resize", () => view.resize());

/** A saved race (/r/{code}) opens as a new live race of one's own, then is followed like any. */
async function start() {
  if (root.dataset.saved) {
    const made = await call(() => send("POST", `/api/saved-races/${encodeURIComponent(root.dataset.saved)}/open`, {}));
    if (!made) return;
    tokens.put(made.id, made.token);
    race.id = made.id;
    history.replaceState(null, "", `/race/${made.id}${location.search}`);
  }
  controlsFor(tokens.get(race.id));
  setBig(params.get("projector") === "1");
  follow();
}

window.backpropRace = race;   // the browser tests read it
start();
