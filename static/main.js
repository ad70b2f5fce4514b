// Draws nothing itself: wiring. Holds the page's state (settings, session {id, token}, the last
// state and frame, the selection) and routes events between the stream, the views and the API.
// Reads every message; emits "following" {id} when it follows a session; listens to "frame", "heatmaps", "command"…

import { sessionApi } from "./api.js";
import { createChart } from "./chart.js";
import { createClassroom } from "./classroom.js";
import { PALETTE_NAME } from "./colors.js";
import { createCommands } from "./commands.js";
import { createControls } from "./controls.js";
import { createGraphPanel } from "./graph.js";
import { createHeatmap } from "./heatmap.js";
import { installHyper } from "./hyper.js";
import { createInspector } from "./inspector.js";
import { createLegend } from "./legend.js";
import { createLesson } from "./lesson.js";
import { createNetworkView } from "./network-view.js";
import { editPoints, pointsAsData } from "./owndata.js";
import { installProbe } from "./probe.js";
import { createReadouts } from "./readouts.js";
import { createSeries } from "./series.js";
import { createSessions } from "./sessions.js";
import { BY_KEY, fromConfig, fromURL } from "./settings.js";
import { createStream } from "./stream.js";
import { createZoom } from "./zoom.js";

const $ = (id) => document.getElementById(id);
const root = $("app");
const readonly = root.dataset.readonly === "true";
const on = (name, fn) => document.addEventListener(name, (e) => fn(e.detail));

const page = {
  settings: fromURL(location.search),
  session: null, api: null, stream: null, origin: null,
  state: null, full: null, frame: null, heatmaps: null, ownData: null,
  target: null, check: null, graph: null, drawTimes: [], frameTimes: [], heatmapTimes: [], timer: null,
};

/** Keep the last 1,000 of a handler's times (ms) for bench/page.py. */
function timed(times, t0) {
  times.push(performance.now() - t0);
  if (times.length > 1000) times.splice(0, 500);
}

const view = createNetworkView($("network"), { mode: page.settings.edge_mode });
const legend = createLegend($("legend"));
const plane = createHeatmap($("boundary"), { overlay: $("points"), classes: () => classes(),
  maxSize: () => (page.settings.projector ? projectorPlane()
    : window.innerWidth >= 1800 ? 400 : window.innerHeight < 800 ? 230 : 300) });

/** Projector: the output plane as large as its grid area (page.css) allows. */
function projectorPlane() {
  const box = document.querySelector(".planebox").getBoundingClientRect();
  const bottom = document.querySelector(".grid").getBoundingClientRect().bottom;
  return Math.round(Math.max(160, Math.min(box.width, bottom - box.top - 4)));
}
const chartHeight = () => (page.settings.projector ? Math.max(80, Math.min(170, window.innerHeight * 0.15))
  : window.innerHeight < 800 ? 78 : 120);
const lossChart = createChart($("loss-chart"), { height: chartHeight });
const gradChart = createChart($("grad-chart"), { log: true, height: chartHeight });
const inspector = createInspector($("inspector"), { readonly });
const graphPanel = createGraphPanel($("graph-panel"), {
  load: (q) => sessionApi({ id: readonly ? root.dataset.session : page.session.id }).graph(q) });
const controls = createControls(root, { readonly });
const classroom = createClassroom(root, { step: () => (page.frame ? page.frame.step : 0) });
const series = createSeries();
const readouts = createReadouts(root);
createZoom($("zoom"), $("edge-tip"));
installHyper(() => page.session);
createLesson(root, $("slide"));
$("legend").title = `palette: ${PALETTE_NAME}`;

const classes = () => (page.state ? page.state.problem.classes : 2);

function message(text) {
  const box = $("message");
  box.textContent = text;
  box.hidden = !text;
  clearTimeout(page.timer);
  if (text) page.timer = setTimeout(() => { box.hidden = true; }, 10000);
}

const sessions = createSessions(page, { root, readonly, controls, follow, message, call });
const { showURL, adopt, newSession, start, copy } = sessions;
const run = createCommands(page, { root, call, message, adopt, saved: (url) => classroom.showSaved(url) });

function follow(id) {
  if (page.stream) page.stream.close();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  page.stream = createStream(`${scheme}://${location.host}/api/sessions/${id}/stream`);
  document.dispatchEvent(new CustomEvent("following", { detail: { id } }));   // lesson.js: whose slides
  if (!readonly) classroom.sessionChanged();
}

async function call(fn) {
  try {
    const state = await fn();
    if (state) showFull(state);
    return state;
  } catch (err) {
    message(err.message);
    return null;
  }
}

function showFull(state) {
  page.full = state;
  inspector.draw(state, page.target, page.check);
  if (page.graph) graphPanel.show(state);
}

async function refreshFull() {
  if (!page.session && !readonly) return;
  const id = readonly ? root.dataset.session : page.session.id;
  const state = await sessionApi({ id }).state().catch(() => null);
  if (state) showFull(state);
}

function drawFrame(frame) {
  const t0 = performance.now();
  view.draw(frame);
  const t1 = performance.now();
  page.drawTimes.push(t1 - t0);
  if (page.drawTimes.length > 1000) page.drawTimes.splice(0, 500);
  legend.draw(view.scale());
}

on("stream-state", (state) => {
  page.state = state;
  // a lesson's slide may open another preset in the same session: the controls follow it
  if (readonly || root.dataset.lesson) page.settings = fromConfig(state.config, page.settings);
  view.setStructure(state);
  plane.resize();
  plane.setPoints(state.points, state.extent);
  series.reset(state.history, state.charts);
  controls.show(page.settings, state);
  readouts.problem(state.problem);
  showFull(state);
});

on("frame", (frame) => {
  const t0 = performance.now();
  const prev = page.frame;
  page.frame = frame;
  drawFrame(frame);
  series.addFrame(frame);
  lossChart.draw(series.lossSeries());
  gradChart.draw(series.gradSeries());
  readouts.draw(frame);
  controls.setPlaying(frame.status === "playing");
  const moved = !prev || prev.step !== frame.step || JSON.stringify(prev.phase) !== JSON.stringify(frame.phase)
    || prev.example !== frame.example;
  if (moved && frame.status !== "playing" && (page.target || page.graph || frame.phase || readonly)) refreshFull();
  timed(page.frameTimes, t0);
});

on("heatmaps", (hm) => {
  const t0 = performance.now();
  page.heatmaps = hm;
  view.setHeatmaps(hm);
  plane.draw(hm);
  timed(page.heatmapTimes, t0);
});

on("losses", (msg) => series.addLosses(msg.start, msg.stride, msg.values, msg.min, msg.max, msg.point));

on("connection", ({ up, retryIn, gone }) => {
  if (up) { $("status").textContent = page.frame ? page.frame.status : "connected"; message(""); return; }
  const id = readonly ? root.dataset.session : page.session && page.session.id;
  if (gone && page.stream) page.stream.close();
  if (gone && !readonly) {
    message("The session is gone (the server restarted?); starting a new one.");
    return page.settings.preset ? start() : newSession();
  }
  const text = gone ? "This session has ended." : `The server is away — reconnecting in ${(retryIn / 1000).toFixed(1)} s…`;
  $("status").textContent = gone ? "ended" : "server away";
  message(text);
  // A refused WebSocket looks the same whether the server is down or the session unknown (a restart):
  // ask the REST API, which says 404 for a session that is gone.
  if (!gone && id) sessionApi({ id }).state().catch((err) => err.status === 404 && (readonly || page.session.id === id)
    && document.dispatchEvent(new CustomEvent("connection", { detail: { up: false, gone: true } })));
});

on("notice", ({ text }) => message(text));

on("pick", async ({ target }) => {
  page.target = target;
  page.check = null;
  view.select(target);
  await refreshFull();
  if (target && target.kind !== "node" && page.full && page.full.record) {
    const q = { kind: target.kind, layer: target.layer, i: target.kind === "W" ? target.i : target.j };
    if (target.kind === "W") q.j = target.j;
    const id = readonly ? root.dataset.session : page.session.id;
    page.check = await sessionApi({ id }).gradcheck(q).catch(() => null);
    if (page.full) inspector.draw(page.full, page.target, page.check);
  }
});

on("show-computation", (t) => { page.graph = t; graphPanel.open(t, page.full); });
on("graph-closed", () => { page.graph = null; });

on("edit-parameter", (edit) => call(() => page.api.parameter(edit)));

on("setting-change", ({ key, value }) => {
  const spec = BY_KEY[key];
  if (readonly && !spec.view) return;
  page.settings[key] = value;
  if (key === "dataset" && value === "custom" && !page.ownData) page.ownData = pointsAsData(page.state);
  if (spec.view) applyView();
  if (spec.structural) return newSession();
  showURL();                      // live settings: the control's own hx-patch sends them (hyper.js)
  if (spec.play) run({ name: "speed" });
});

on("own-data", ({ data }) => {
  page.ownData = data;
  page.settings.dataset = "custom";
  newSession();
});

on("plane-click", (click) => {
  if (readonly) return;
  if (page.settings.dataset !== "custom") page.ownData = pointsAsData(page.state);
  const label = Number(document.querySelector('input[name="own_class"]:checked').value);
  const data = editPoints(page.ownData, click, label);
  if (data.inputs.length === 0) return message("data: keep at least one point");
  page.ownData = data;
  page.settings.dataset = "custom";
  plane.setPoints({ train: { x: data.inputs, y: data.labels }, test: { x: [], y: [] } });
  clearTimeout(page.pointsTimer);
  page.pointsTimer = setTimeout(newSession, 400);
});

on("command", (command) => {
  if (readonly && command.name === "copy") return copy();
  if (!readonly && page.api) run(command);
});

function applyView() {
  const big = page.settings.projector;
  document.body.classList.toggle("projector", big);
  view.setOptions({ mode: page.settings.edge_mode, big });
  for (const chart of [lossChart, gradChart, legend]) chart.setOptions({ big });
  lossChart.setOptions({ log: page.settings.loss_log });
  plane.setOptions({ showTest: page.settings.show_test, discretize: page.settings.discretize });
  resize();
}

function resize() {
  view.resize();
  plane.resize();
  lossChart.resize();
  gradChart.resize();
  legend.resize();
  if (page.frame) {
    lossChart.draw(series.lossSeries());
    gradChart.draw(series.gradSeries());
    legend.draw(view.scale());
  }
}
// The presets menu closes on a click anywhere else (the share button's included) and on Escape.
document.addEventListener("click", (e) => {
  const menu = $("presets");
  if (menu && menu.open && !menu.contains(e.target)) menu.open = false;
});
document.addEventListener("keydown", (e) => e.key === "Escape" && $("presets") && ($("presets").open = false));

window.addEventListener("resize", resize);
// Projector: the phase narration above the output plane grows and shrinks with its equations; the
// plane takes what it leaves.
new ResizeObserver(() => page.settings.projector && requestAnimationFrame(resize)).observe($("inspector"));

installProbe({ page, view, plane, series, canvas: $("network") });

controls.show(page.settings, null);
applyView();
if (readonly) {
  showURL();
  follow(root.dataset.session);
} else start();
