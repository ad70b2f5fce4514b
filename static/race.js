// Draws nothing itself: the race page's wiring. Follows a race's stream, hands each lane its part of
// every race_state / race_frame / race_heatmaps / race_losses message (race-lane.js draws it), draws
// the shared loss chart, and sends the controls (with the race's token) to /api/races. Emits nothing.

import { send, tokens } from "./api.js";
import { createChart } from "./chart.js";
import { SERIES } from "./colors.js";
import { createLane } from "./race-lane.js";
import { createStream, decodeCharts, decodeFrame, decodeHeatmaps, decodeSeries } from "./stream.js";

const $ = (id) => document.getElementById(id);
const root = $("race");
const params = new URLSearchParams(location.search);
const race = { id: root.dataset.race, token: null, info: null, lanes: [], stream: null, playing: false, step: 0 };
const chart = createChart($("race-loss"), {
  height: () => Math.max(90, Math.min(document.body.classList.contains("projector") ? 170 : 140, window.innerHeight * 0.19)),
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

/** A number as the lane's title shows it; names as they are. */
const valueText = (v) => (typeof v === "number" ? String(v) : v);

function buildLanes(info, count) {
  const box = $("lanes");
  box.replaceChildren();
  box.style.setProperty("--lanes", count);
  race.lanes = Array.from({ length: count }, (_, i) => {
    const el = $("lane-template").content.firstElementChild.cloneNode(true);
    box.append(el);
    return createLane(el, { label: `${info.vary} = ${valueText(info.values[i])}`, color: SERIES[i], copy });
  });
  setBig(document.body.classList.contains("projector"));
}

function onMessage(msg) {
  const parts = msg.lanes || [];
  if (msg.type === "race_state") {
    race.info = msg.race;
    $("race-vary").textContent = msg.race.vary.replace("_", " ");
    $("race-code").textContent = msg.race.join_code;
    if (race.lanes.length !== parts.length) buildLanes(msg.race, parts.length);
    parts.forEach((s, i) => {
      if (!s) return;
      if (s.history) decodeSeries(s.history);
      if (s.charts) decodeCharts(s.charts);
      race.lanes[i].setState(s);
    });
    drawChart();
  } else if (msg.type === "race_frame") {
    parts.forEach((f, i) => f && race.lanes[i] && race.lanes[i].frame(decodeFrame(f)));
    const frames = race.lanes.map((l) => l.lane.frame).filter(Boolean);
    race.step = Math.max(0, ...frames.map((f) => f.step));
    race.playing = frames.some((f) => f.status === "playing");
    $("race-step-count").textContent = race.step;
    $("race-status").textContent = race.playing ? "playing" : frames.every((f) => f.diverged) ? "diverged" : "paused";
    $("race-play").textContent = race.playing ? "❚❚ pause" : "▶ play";
    drawChart();
  } else if (msg.type === "race_heatmaps") {
    parts.forEach((h, i) => h && race.lanes[i] && race.lanes[i].heatmaps(decodeHeatmaps(h)));
  } else if (msg.type === "race_losses") {
    parts.forEach((m, i) => m && race.lanes[i] && race.lanes[i].losses(decodeSeries(m)));
  }
}

function drawChart() {
  chart.draw(race.lanes.map((l) => l.trainLine()));
}

function follow() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  race.stream = createStream(`${scheme}://${location.host}/api/races/${race.id}/stream`, { other: onMessage });
  $("race-link").href = `/race/${race.id}`;
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

const speed = () => ($("race-speed").value ? Number($("race-speed").value) : null);
const commands = {
  play: () => call(() => (race.playing ? api("POST", "/pause", {}) : api("POST", "/play", { speed: speed() }))),
  step: () => call(() => api("POST", "/step", { steps: 1 })),
  reset: () => call(() => api("POST", "/reset", {})),
  save: async () => {
    const saved = await call(() => api("POST", "/save", {}));
    if (!saved) return;
    $("race-saved").hidden = false;
    $("race-saved-link").href = saved.url;
    $("race-saved-link").textContent = `${location.host}${saved.url}`;
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
  chart.setOptions({ big });
  for (const lane of race.lanes) lane.setBig(big);
  resize();
}

function resize() {
  for (const lane of race.lanes) lane.resize();
  chart.resize();
  drawChart();
}

function controlsFor(token) {
  race.token = token;
  $("race-controls").hidden = !token;
  $("race-watching").hidden = !!token;
  if (!token) return;
  for (const name of Object.keys(commands)) $(`race-${name}`).addEventListener("click", () => commands[name]());
  $("race-speed").addEventListener("change", () => race.playing && call(() => api("POST", "/play", { speed: speed() })));
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea")) return;
    const key = { " ": "play", s: "step", r: "reset" }[e.key];
    if (key) { e.preventDefault(); commands[key](); }
  });
}

$("race-projector").addEventListener("change", (e) => {
  setBig(e.target.checked);
  params.set("projector", e.target.checked ? "1" : "0");
  history.replaceState(null, "", `${location.pathname}?${params}`);
});
$("race-log").addEventListener("change", (e) => { chart.setOptions({ log: e.target.checked }); drawChart(); });
window.addEventListener("resize", resize);

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
