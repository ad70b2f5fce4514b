// Draws nothing: keeps the batch loss (mean and min–max range) and the gradient sizes for the two charts.
// Reads state.history, state.charts, "losses" messages and frame.loss_start/loss_stride/losses/
// losses_min/losses_max, step, metrics, grad_norms. Emits no events.

import { NEGATIVE, POSITIVE, SERIES } from "./colors.js";

const CAP = 20000;

/**
 * The batch loss as points: first step, steps covered, mean, min, max. Points whose first steps
 * share a cell of `grid` steps are merged (mean weighted by steps, min of mins, max of maxes);
 * when there are more than CAP points the grid doubles and they merge again, so memory stays
 * bounded and every spike survives as some point's max. Non-finite values count for nothing in
 * a merge (as on the server); a point of only non-finite values stays NaN.
 */
function createTrack() {
  let xs = [], span = [], mean = [], lo = [], hi = [];
  let grid = 1;

  const pick = (a, b, f) => (!Number.isFinite(a) ? b : !Number.isFinite(b) ? a : f(a, b));

  function mergeInto(k, n, m, l, h) {
    const a = span[k];
    mean[k] = pick(mean[k], m, (p, q) => (p * a + q * n) / (a + n));
    lo[k] = pick(lo[k], l, Math.min);
    hi[k] = pick(hi[k], h, Math.max);
    span[k] = a + n;
  }

  function set(k, x, n, m, l, h) {
    xs[k] = x; span[k] = n; mean[k] = m; lo[k] = l; hi[k] = h;
  }

  function thin() {
    while (xs.length > CAP) {
      grid *= 2;
      let k = 0;
      for (let i = 0; i < xs.length; i++) {
        if (k && Math.floor(xs[i] / grid) === Math.floor(xs[k - 1] / grid)) mergeInto(k - 1, span[i], mean[i], lo[i], hi[i]);
        else set(k++, xs[i], span[i], mean[i], lo[i], hi[i]);
      }
      for (const a of [xs, span, mean, lo, hi]) a.length = k;
    }
  }

  return {
    clear() {
      xs = []; span = []; mean = []; lo = []; hi = []; grid = 1;
    },
    /** Point i: steps start + i·stride …; min/max null, absent or empty: exact (the value). */
    add(start, stride, values, min, max) {
      for (let i = 0; i < values.length; i++) {
        const x = start + i * stride;
        const last = xs.length - 1;
        if (last >= 0 && x <= xs[last]) continue;   // already here: pieces may overlap
        const m = values[i], l = min && i < min.length ? min[i] : m, h = max && i < max.length ? max[i] : m;
        if (last >= 0 && Math.floor(x / grid) === Math.floor(xs[last] / grid)) mergeInto(last, stride, m, l, h);
        else set(xs.length, x, stride, m, l, h);
      }
      if (xs.length > CAP) thin();
    },
    last: () => (xs.length ? xs[xs.length - 1] : -Infinity),
    series: (style) => ({ xs, ys: mean, lo, hi, ...style }),
  };
}

/**
 * The train/test loss and gradient-size points, one a frame: steps fall into cells of `grid`
 * steps and a cell keeps its first point; past `cap` points the grid doubles and neighbours
 * drop. The server keeps its copy by the same rule (app/worker/chartlog.py) and sends it in `state`,
 * so a page that joins late holds exactly the points of one that saw every frame. Values are
 * kept as float32 (Math.fround), as the state carries them.
 */
function createPoints() {
  let cap = 1024, grid = 1, xs = [], train = [], test = [], grads = [];

  function coarsen() {
    grid *= 2;
    let k = 0;
    for (let i = 0; i < xs.length; i++) {
      if (k && Math.floor(xs[i] / grid) === Math.floor(xs[k - 1] / grid)) continue;
      xs[k] = xs[i]; train[k] = train[i]; test[k] = test[i]; grads[k] = grads[i]; k++;
    }
    for (const a of [xs, train, test, grads]) a.length = k;
  }

  return {
    /** charts: the state's {cap, grid, steps, train_loss, test_loss, grad_norms} (decoded), or null. */
    reset(charts) {
      grid = 1; xs = []; train = []; test = []; grads = [];
      if (!charts) return;
      cap = charts.cap; grid = charts.grid; xs = charts.steps.slice();
      train = Array.from(charts.train_loss); test = Array.from(charts.test_loss);
      grads = xs.map((_, i) => charts.grad_norms.map((layer) => layer[i]));
      grads.forEach((g, i) => { if (g.every(Number.isNaN)) grads[i] = []; });   // before step 1
    },
    add(step, trainLoss, testLoss, norms) {
      const g = norms.map((v) => Math.fround(v ?? NaN));
      const last = xs.length ? xs[xs.length - 1] : null;
      if (last !== null) {
        if (step < last) this.reset(null);          // the session went back (a reset)
        else if (step === last || Math.floor(step / grid) === Math.floor(last / grid)) return;
      }
      const prev = grads.length ? grads[grads.length - 1] : [];
      if (prev.length && g.length && prev.length !== g.length) this.reset(null);   // another network
      xs.push(step); train.push(Math.fround(trainLoss ?? NaN)); test.push(Math.fround(testLoss ?? NaN));
      grads.push(g);
      while (xs.length > cap) coarsen();
    },
    get: () => ({ xs, train, test, grads }),
  };
}

export function createSeries() {
  const batch = createTrack();
  const points = createPoints();

  return {
    /** history: {start (0 if absent), stride, values, min, max} with Float32Array values and
     * min/max (null when stride is 1), or null; charts: the state's chart points, or null. */
    reset(history, charts = null) {
      batch.clear();
      points.reset(charts);
      if (history) batch.add(history.start ?? 0, history.stride, history.values, history.min, history.max);
    },
    /** A "losses" message's piece; min and max null or absent when exact (stride 1); point: the
     * skipped frame's chart point {step, train_loss, test_loss, grad_norms}, or null. */
    addLosses(start, stride, values, min = null, max = null, point = null) {
      batch.add(start, stride, values, min, max);
      if (point) points.add(point.step, point.train_loss, point.test_loss, point.grad_norms);
    },
    addFrame(frame) {
      if (frame.step < batch.last()) this.reset(null);   // the session went back (reset)
      batch.add(frame.loss_start, frame.loss_stride ?? 1, frame.losses, frame.losses_min, frame.losses_max);
      points.add(frame.step, frame.metrics.train_loss, frame.metrics.test_loss, frame.grad_norms);
    },
    lossSeries() {
      const { xs, train, test } = points.get();
      return [
        batch.series({ color: "#aaa", band: "rgba(170, 170, 170, 0.3)", width: 1, label: "batch" }),
        { xs, ys: train, color: `rgb(${POSITIVE})`, label: "train" },
        { xs, ys: test, color: `rgb(${NEGATIVE})`, label: "test" },
      ];
    },
    gradSeries() {
      const { xs, grads } = points.get();
      let layers = 0;
      for (let i = grads.length - 1; i >= 0 && !layers; i--) layers = grads[i].length;
      return Array.from({ length: layers }, (_, k) => ({
        xs, ys: grads.map((g) => g[k] ?? NaN), color: SERIES[k % SERIES.length], label: `W${k + 1}`,
      }));
    },
  };
}
