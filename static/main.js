// Draws nothing itself: wiring. Makes the page's state (page-state.js) and the views, hands each
// module its part, and routes the stream's messages to the views. Reads every message; listens to
// "stream-state", "frame", "heatmaps", "losses", "notice", "edit-parameter", "setting-change", "command".

import { sessionApi } from "./api.js";
import { createChart } from "./chart.js";
import { createClassroom } from "./classroom.js";
import { installCodeExport } from "./code-export.js";
import { PALETTE_NAME } from "./colors.js";
import { createCommands } from "./commands.js";
import { createConnection } from "./connection.js";
import { createControls } from "./controls.js";
import { createGraphPanel } from "./graph.js";
import { createHeatmap } from "./heatmap.js";
import { createInspector } from "./inspector.js";
import { chartHeight, createLayout, planeSize } from "./layout.js";
import { createLegend } from "./legend.js";
import { createLesson } from "./lesson.js";
import { installLive } from "./live.js";
import { createMessage } from "./message.js";
import { createNetworkKeys } from "./network-keys.js";
import { createNetworkView } from "./network-view.js";
import { createOwnPoints } from "./own-points.js";
import { createPageState } from "./page-state.js";
import { installProbe, timed } from "./probe.js";
import { createReadouts } from "./readouts.js";
import { createSelection } from "./selection.js";
import { createSeries } from "./series.js";
import { installSessionButtons } from "./session-buttons.js";
import { createSessions } from "./sessions.js";
import { BY_KEY, fromConfig } from "./settings.js";
import { createZoom } from "./zoom.js";

const $ = (id) => document.getElementById(id);
const on = (name, fn) => document.addEventListener(name, (e) => fn(e.detail));
const root = $("app");
const readonly = root.dataset.readonly === "true";
const page = createPageState(location.search);
const shown = () => (readonly ? root.dataset.session : page.session && page.session.id);   // the session on screen
const projector = () => page.settings.projector;

// --- the views
const view = createNetworkView($("network"), { mode: page.settings.edge_mode });
const legend = createLegend($("legend"));
const plane = createHeatmap($("boundary"), { overlay: $("points"), classes: () => (page.state ? page.state.problem.classes : 2),
  maxSize: () => planeSize(projector()) });
const lossChart = createChart($("loss-chart"), { height: () => chartHeight(projector()) });
const gradChart = createChart($("grad-chart"), { log: true, height: () => chartHeight(projector()) });
const inspector = createInspector($("inspector"), { readonly });
const graphPanel = createGraphPanel($("graph-panel"), { load: (q) => sessionApi({ id: shown() }).graph(q) });
const series = createSeries();
const readouts = createReadouts(root);
const layout = createLayout(page, { view, plane, lossChart, gradChart, legend, series }, $("inspector"));
createZoom($("zoom"), $("edge-tip"));
createNetworkKeys($("network"), $("network-readout"), page, view);
createLesson(root, $("slide"));
$("legend").title = `palette: ${PALETTE_NAME}`;

// --- the controls and the session they drive
const message = createMessage($("message"), page);
const controls = createControls(root, { readonly });
const classroom = createClassroom(root, { step: () => (page.frame ? page.frame.step : 0), session: shown });
installCodeExport(root);
const selection = createSelection(page, { view, inspector, graphPanel }, { id: shown, readonly });
const follow = createConnection(page, { root, readonly, status: $("status"), message,
  restart: () => sessions.lost(),
  followed: () => readonly || classroom.sessionChanged() });
const sessions = createSessions(page, { root, readonly, controls, follow, message, call });
const run = createCommands(page, { root, call, message, sessions, saved: classroom.showSaved });
const ownPoints = createOwnPoints(page, { plane, readonly, newSession: sessions.rebuild, message });
if (!readonly) installLive(root, { api: () => page.api, notice: message });
if (!readonly) installSessionButtons(root);

/** A control call: its SessionState goes to the inspector, its refusal to the message line. */
async function call(fn) {
  try {
    const state = await fn();
    if (state) selection.show(state);
    return state;
  } catch (err) {
    message(err.message);
    return null;
  }
}

// --- the stream's messages
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
  selection.show(state);
});

on("frame", (frame) => timed(page.frameTimes, () => {
  const prev = page.frame;
  page.frame = frame;
  timed(page.drawTimes, () => view.draw(frame));
  legend.draw(view.scale());
  series.addFrame(frame);
  lossChart.draw(series.lossSeries());
  gradChart.draw(series.gradSeries());
  readouts.draw(frame);
  controls.setPlaying(frame.status === "playing");
  selection.moved(prev, frame);
}));

on("heatmaps", (hm) => timed(page.heatmapTimes, () => {
  page.heatmaps = hm;
  view.setHeatmaps(hm);
  plane.draw(hm);
}));

on("losses", (msg) => series.addLosses(msg.start, msg.stride, msg.values, msg.min, msg.max, msg.point));

// --- the user's changes
on("notice", ({ text }) => message(text));
on("edit-parameter", (edit) => call(() => page.api.parameter(edit)));

on("setting-change", ({ key, value }) => {
  const spec = BY_KEY[key];
  if (readonly && !spec.view) return;
  page.settings[key] = value;
  ownPoints.chosen(key, value);
  if (spec.view) layout.apply();
  if (spec.structural) return sessions.rebuild();   // the same session, rebuilt: the class stays
  sessions.showURL();             // a live setting: live.js PATCHes the session
  if (spec.play || key === "batch_size") run({ name: "speed" });   // the pace's steps/s follow the batch size
});

on("command", (command) => {
  if (readonly && command.name === "copy") return sessions.copy();
  if (!readonly && page.api) run(command);
});

installProbe({ page, view, plane, series, canvas: $("network"), charts: { loss: lossChart, grad: gradChart } });

controls.show(page.settings, null);
layout.apply();
if (readonly) {
  sessions.showURL();
  follow(root.dataset.session);
} else sessions.start();
