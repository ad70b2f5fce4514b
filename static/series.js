// Draws nothing: keeps the loss history and the gradient sizes over time for the two charts.
// Reads state.history, frame.losses/loss_start/step/metrics/grad_norms and "losses" messages.
// Emits no events.

import { NEGATIVE, POSITIVE, SERIES } from "./colors.js";

const CAP = 20000;

export function createSeries() {
  let lossX = [];
  let lossY = [];
  let metricX = [];
  let train = [];
  let test = [];
  let gradX = [];
  let grads = [];

  function push(step, value) {
    if (lossX.length && step <= lossX[lossX.length - 1]) return;
    lossX.push(step);
    lossY.push(value);
    if (lossX.length > CAP) {       // thin by half: a chart is a few hundred pixels wide
      lossX = lossX.filter((_, i) => i % 2 === 0);
      lossY = lossY.filter((_, i) => i % 2 === 0);
    }
  }

  return {
    reset(history) {
      lossX = []; lossY = []; metricX = []; train = []; test = []; gradX = []; grads = [];
      if (history) history.values.forEach((v, i) => push(i * history.stride, v));
    },
    addLosses(start, stride, values) {
      values.forEach((v, i) => push(start + i * stride, v));
    },
    addFrame(frame) {
      if (lossX.length && frame.loss_start < lossX[lossX.length - 1] - 1 && frame.step < lossX[lossX.length - 1]) {
        this.reset(null);             // the session went back (reset)
      }
      frame.losses.forEach((v, i) => push(frame.loss_start + i, v));
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
      { xs: lossX, ys: lossY, color: "#aaa", width: 1, label: "batch" },
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
