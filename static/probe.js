// Draws nothing: window.backprop, the hook the browser tests and bench/page.py read — the page's
// state, the views, the drawn labels' boxes, timed redraws — and timed(), which keeps the handlers'
// times (page.frameTimes…). Reads the last frame and heatmaps message (page.frame, page.heatmaps).
// Emits no events.

/** Run fn and keep its time (ms) in `times`, the last 1,000 of them for bench/page.py. */
export function timed(times, fn) {
  const t0 = performance.now();
  fn();
  times.push(performance.now() - t0);
  if (times.length > 1000) times.splice(0, 500);
}

/** Milliseconds of each of `times` runs of fn; `flush` forces the canvas's raster work inside. */
function timeRuns(canvas, fn, times, flush) {
  const out = [];
  const ctx = canvas.getContext("2d");
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    fn();
    if (flush) ctx.getImageData(0, 0, 1, 1);
    out.push(performance.now() - t0);
  }
  return out;
}

export function installProbe({ page, view, plane, series, canvas, charts }) {
  window.backprop = {
    page,
    view,
    lossSeries: () => series.lossSeries(),
    gradSeries: () => series.gradSeries(),
    /** The steps each chart (loss, grad) last drew: {from, to}, `to` the step its label names. */
    chartSteps: () => ({ loss: charts.loss.steps(), grad: charts.grad.steps() }),
    /** Every drawn label's and node's box on the network canvas (CSS pixels), and what did not fit. */
    labels: () => view.boxes(),
    /** Times drawing the last frame's network again. */
    redraw: (times = 200, flush = false) => timeRuns(canvas, () => view.draw(page.frame), times, flush),
    /** Times drawing the last heatmaps message again, as its handler does. */
    redrawHeatmaps: (times = 200, flush = false) => timeRuns(canvas, () => {
      view.setHeatmaps(page.heatmaps);
      plane.draw(page.heatmaps);
    }, times, flush),
  };
}
