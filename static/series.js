// Draws nothing: keeps the batch loss (mean and min–max range) and the gradient sizes for the two charts.
// Reads state.history, "losses" messages and frame.loss_start/loss_stride/losses/losses_min/losses_max,
// step, metrics, grad_norms. Emits no events.

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

export function createSeries() {
  const batch = createTrack();
  let metricX = [];
  let train = [];
  let test = [];
  let gradX = [];
  let grads = [];

  return {
    /** history: {start (0 if absent), stride, values, min, max} with Float32Array values and
     * min/max (null when stride is 1), or null. */
    reset(history) {
      batch.clear();
      metricX = []; train = []; test = []; gradX = []; grads = [];
      if (history) batch.add(history.start ?? 0, history.stride, history.values, history.min, history.max);
    },
    /** A "losses" message's piece; min and max null or absent when exact (stride 1). */
    addLosses(start, stride, values, min = null, max = null) {
      batch.add(start, stride, values, min, max);
    },
    addFrame(frame) {
      if (frame.step < batch.last()) this.reset(null);   // the session went back (reset)
      batch.add(frame.loss_start, frame.loss_stride ?? 1, frame.losses, frame.losses_min, frame.losses_max);
      if (metricX.length && frame.step <= metricX[metricX.length - 1]) return;
      metricX.push(frame.step);
      train.push(frame.metrics.train_loss ?? NaN);
      test.push(frame.metrics.test_loss ?? NaN);
      if (frame.grad_norms.length) {
        gradX.push(frame.step);
        grads.push(frame.grad_norms.map((g) => g ?? NaN));
      }
      if (metricX.length > CAP) {
        metricX = metricX.slice(-CAP / 2); train = train.slice(-CAP / 2); test = test.slice(-CAP / 2);
        gradX = gradX.slice(-CAP / 2); grads = grads.slice(-CAP / 2);
      }
    },
    lossSeries: () => [
      batch.series({ color: "#aaa", band: "rgba(170, 170, 170, 0.3)", width: 1, label: "batch" }),
      { xs: metricX, ys: train, color: `rgb(${POSITIVE})`, label: "train" },
      { xs: metricX, ys: test, color: `rgb(${NEGATIVE})`, label: "test" },
    ],
    gradSeries() {
      const layers = grads.length ? grads[grads.length - 1].length : 0;
      return Array.from({ length: layers }, (_, k) => ({
        xs: gradX, ys: grads.map((g) => g[k]), color: SERIES[k % SERIES.length], label: `W${k + 1}`,
      }));
    },
  };
}
