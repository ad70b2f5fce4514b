// The notebook widget's front end (anywidget): the page's own views — the network (edges
// coloured by ∂E/∂w), the legend, the output plane and the loss chart — mounted in the widget's
// element and fed the stream's own messages, which the kernel keeps in four synced traits
// (state, frame, heatmaps, losses: JSON text as the server streams it). Draws nothing itself.
// A click on the network sets the model's `selected` (the page's pick target, or null).
// esbuild bundles this with the static/ modules it imports into one ES module (package.json).

import { createChart } from "../../static/chart.js";
import { chartHeight, planeSize } from "../../static/layout.js";
import { createHeatmap } from "../../static/heatmap.js";
import { createLegend } from "../../static/legend.js";
import { createNetworkView } from "../../static/network-view.js";
import { createSeries } from "../../static/series.js";
import { decodeCharts, decodeFrame, decodeHeatmaps, decodeSeries } from "../../static/stream.js";

const SHELL = `
<div class="bp-widget" style="display:flex;gap:16px;align-items:flex-start;font:13px system-ui,sans-serif;color:#222">
  <div style="flex:0 0 auto">
    <div class="bp-net" style="width:480px;height:320px"><canvas class="bp-network"></canvas></div>
    <div style="width:320px"><canvas class="bp-legend"></canvas></div>
  </div>
  <div style="flex:0 0 auto;width:240px">
    <div class="bp-plane" style="position:relative;width:240px">
      <canvas class="bp-boundary" style="position:absolute;left:0;top:0;image-rendering:pixelated"></canvas>
      <canvas class="bp-points" style="position:absolute;left:0;top:0"></canvas>
    </div>
    <div class="bp-readout" style="margin:6px 0"></div>
    <div style="width:240px"><canvas class="bp-loss"></canvas></div>
  </div>
</div>`;

function render({ model, el }) {
  el.innerHTML = SHELL;
  const $ = (name) => el.querySelector(`.bp-${name}`);
  const root = $("widget");
  const view = createNetworkView($("network"), { mode: "gradient" });
  const legend = createLegend($("legend"));
  let classes = 2;
  const plane = createHeatmap($("boundary"), { overlay: $("points"), classes: () => classes,
    maxSize: () => planeSize(false) });
  const lossChart = createChart($("loss"), { height: () => chartHeight(false) });
  const series = createSeries();
  // What the notebook's tests read: the frames this view drew and when (performance.now()),
  // and the network's hit test and node places, to click an edge where it is drawn.
  const drawn = { frames: 0, first: null, last: null };
  root.backpropProbe = { drawn, hit: (x, y) => view.hit(x, y), nodePosition: (k, j) => view.nodePosition(k, j) };

  function showState(text) {
    if (!text) return;
    const state = JSON.parse(text);
    if (state.history) decodeSeries(state.history);
    if (state.charts) decodeCharts(state.charts);
    classes = state.problem.classes;
    view.setStructure(state);
    plane.resize();
    plane.setPoints(state.points, state.extent);
    legend.resize();
    lossChart.resize();
    series.reset(state.history, state.charts);
  }

  function showFrame(text) {
    if (!text) return;
    const frame = decodeFrame(JSON.parse(text));
    view.draw(frame);
    legend.draw(view.scale());
    series.addFrame(frame);
    lossChart.draw(series.lossSeries());
    const loss = frame.metrics.train_loss;
    const phase = frame.phase ? `  ·  ${frame.phase.name}${frame.phase.layer ? ` ${frame.phase.layer}` : ""}` : "";
    $("readout").textContent = `step ${frame.step}  ·  train loss ${loss == null ? "—" : loss.toPrecision(4)}${phase}`;
    drawn.frames += 1;
    drawn.last = performance.now();
    if (drawn.first === null) drawn.first = drawn.last;
    root.dataset.step = frame.step;
  }

  function showHeatmaps(text) {
    if (!text) return;
    const hm = decodeHeatmaps(JSON.parse(text));
    view.setHeatmaps(hm);
    plane.draw(hm);
  }

  function showLosses(text) {
    if (!text) return;
    const msg = decodeSeries(JSON.parse(text));
    series.addLosses(msg.start, msg.stride, msg.values, msg.min, msg.max, msg.point);
  }

  const net = $("network");
  if (!model.get("readonly")) {
    net.addEventListener("click", (e) => {
      const r = net.getBoundingClientRect();
      const target = view.hit(e.clientX - r.left, e.clientY - r.top);
      model.set("selected", target);
      model.save_changes();
    });
  }
  const select = () => view.select(model.get("selected"));

  // The page's views size themselves from their boxes: draw once the element is in the page.
  requestAnimationFrame(() => {
    showState(model.get("state"));
    showHeatmaps(model.get("heatmaps"));
    showFrame(model.get("frame"));
    select();
  });
  const handlers = {
    "change:state": () => showState(model.get("state")),
    "change:frame": () => showFrame(model.get("frame")),
    "change:heatmaps": () => showHeatmaps(model.get("heatmaps")),
    "change:losses": () => showLosses(model.get("losses")),
    "change:selected": select,
  };
  for (const [name, fn] of Object.entries(handlers)) model.on(name, fn);
  return () => {
    for (const [name, fn] of Object.entries(handlers)) model.off(name, fn);
  };
}

export default { render };
