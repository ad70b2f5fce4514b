// Draws one lane of a race: its network (network-view.js), its output plane (heatmap.js) and its
// step and losses, and keeps its loss series (series.js) for the race's shared chart.
// Reads a lane's state, frame, heatmaps and losses messages (docs/stream.md). Emits no events.

import { createHeatmap } from "./heatmap.js";
import { createNetworkView } from "./network-view.js";
import { createSeries } from "./series.js";

const show = (v) => (v === null || v === undefined ? "–" : v.toFixed(4));

/** el: a section made from the page's lane template; color: its line in the shared chart. */
export function createLane(el, { label, color, copy }) {
  const $ = (cls) => el.querySelector(`.${cls}`);
  const lane = { state: null, frame: null, heatmaps: null, label, color, big: false };
  const view = createNetworkView($("lane-network"), { mode: "gradient" });
  const plane = createHeatmap($("lane-boundary"), {
    overlay: $("lane-points"),
    classes: () => (lane.state && lane.state.config.dataset === "three_class" ? 3 : 2),
    // as race.css's --plane: the lanes and the shared chart fit a 1280 × 720 screen together
    maxSize: () => Math.max(140, Math.min(lane.big ? Infinity : 260, window.innerHeight * 0.24)),
  });
  const series = createSeries();
  $("lane-label").textContent = label;
  $("swatch").style.background = color;
  $("lane-copy").addEventListener("click", () => lane.state && copy(lane.state.id));

  return {
    lane,
    view,
    plane,
    setState(state) {
      lane.state = state;
      view.setStructure(state);
      plane.resize();
      plane.setPoints(state.points, state.extent);
      series.reset(state.history, state.charts);
      $("lane-watch").href = state.watch_url;
    },
    frame(frame) {
      lane.frame = frame;
      view.draw(frame);
      series.addFrame(frame);
      $("lane-step").textContent = frame.step;
      $("lane-train").textContent = show(frame.metrics.train_loss);
      $("lane-test").textContent = show(frame.metrics.test_loss);
      $("lane-status").textContent = frame.diverged ? "diverged" : "";
      el.classList.toggle("diverged", !!frame.diverged);
    },
    heatmaps(hm) {
      lane.heatmaps = hm;
      view.setHeatmaps(hm);
      plane.draw(hm);
    },
    losses(msg) {
      series.addLosses(msg.start, msg.stride, msg.values, msg.min, msg.max, msg.point);
    },
    /** The lane's training loss over steps, in its colour, for the shared chart. */
    trainLine() {
      const [, train] = series.lossSeries();
      return { ...train, color, label, width: 2 };
    },
    setBig(big) {
      lane.big = big;
      view.setOptions({ big });
    },
    resize() {
      view.resize();
      plane.resize();
    },
  };
}
