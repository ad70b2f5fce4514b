// Draws a race: its lanes side by side (race-lane.js draws each) and the shared training-loss chart,
// from the race stream's race_state / race_frame / race_heatmaps / race_losses messages
// (docs/stream.md). Used by the race page (race.js) and by a lesson's race slide (lesson-race.js).
// Emits nothing; `race` (the caller's record) is kept up to date: info, lanes, step, playing, status.

import { createChart } from "./chart.js";
import { SERIES } from "./colors.js";
import { createLane } from "./race-lane.js";
import { decodeCharts, decodeFrame, decodeHeatmaps, decodeSeries } from "./stream.js";

/** A number as the lane's title shows it; names as they are. */
const valueText = (v) => (typeof v === "number" ? String(v) : v);

/** root: an element holding templates/race-view.html; race: the record to keep; copy(laneId): the
 *  lane's "make my own copy"; chartHeight(): the chart's height in CSS pixels; bigLanes: false keeps
 *  the lanes' networks at desktop scale in projector mode (a slide's narrow lanes have no room). */
export function createRaceView(root, race, { copy, chartHeight, bigLanes = true }) {
  const q = (sel) => root.querySelector(sel);
  const chart = createChart(q(".race-loss"), { height: chartHeight });
  let big = false;
  Object.assign(race, { info: null, lanes: [], step: 0, playing: false, status: "connecting" });

  function build(info, count) {
    const box = q(".lanes");
    box.replaceChildren();
    box.style.setProperty("--lanes", count);
    race.lanes = Array.from({ length: count }, (_, i) => {
      const el = q(".lane-template").content.firstElementChild.cloneNode(true);
      box.append(el);
      return createLane(el, { label: `${info.vary} = ${valueText(info.values[i])}`, color: SERIES[i], copy });
    });
    setBig(big);
  }

  function drawChart() {
    chart.draw(race.lanes.map((l) => l.trainLine()));
  }

  function onMessage(msg) {
    const parts = msg.lanes || [];
    if (msg.type === "race_state") {
      race.info = msg.race;
      if (race.lanes.length !== parts.length) build(msg.race, parts.length);
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
      race.status = race.playing ? "playing" : frames.every((f) => f.diverged) ? "diverged" : "paused";
      drawChart();
    } else if (msg.type === "race_heatmaps") {
      parts.forEach((h, i) => h && race.lanes[i] && race.lanes[i].heatmaps(decodeHeatmaps(h)));
    } else if (msg.type === "race_losses") {
      parts.forEach((m, i) => m && race.lanes[i] && race.lanes[i].losses(decodeSeries(m)));
    }
  }

  function resize() {
    for (const lane of race.lanes) lane.resize();
    chart.resize();
    drawChart();
  }

  function setBig(on) {
    big = on;
    chart.setOptions({ big });
    for (const lane of race.lanes) lane.setBig(big && bigLanes);
    resize();
  }

  const log = q(".race-log");
  if (log) log.addEventListener("change", () => { chart.setOptions({ log: log.checked }); drawChart(); });

  /** Forget the lanes (another race comes next, or none). */
  function clear() {
    q(".lanes").replaceChildren();
    Object.assign(race, { info: null, lanes: [], step: 0, playing: false, status: "connecting" });
    drawChart();
  }

  return { onMessage, resize, setBig, clear };
}
