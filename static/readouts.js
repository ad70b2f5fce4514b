// Draws the text readouts: epoch and step counters, the status line, train/test loss and accuracy,
// the kind of problem, and whether the node labels show the batch mean or an example. Reads
// frame.epoch, .step, .status, .diverged, .example, .metrics {train_loss, test_loss, train_accuracy,
// test_accuracy}; SessionState.problem. Emits no events.

import { labelsShow } from "./labels.js";

const show = (v, pct) => (v === null || v === undefined ? "–" : pct ? `${(v * 100).toFixed(1)} %` : v.toFixed(4));

export function createReadouts(root) {
  const $ = (id) => root.querySelector(`#${id}`);
  return {
    draw(frame) {
      $("epoch").textContent = frame.epoch;
      $("step-count").textContent = frame.step;
      $("status").textContent = frame.diverged ? "diverged — lower the learning rate and reset" : frame.status;
      const m = frame.metrics;
      $("train-loss").textContent = show(m.train_loss);
      $("test-loss").textContent = show(m.test_loss);
      $("train-acc").textContent = show(m.train_accuracy, true);
      $("test-acc").textContent = show(m.test_accuracy, true);
      $("labels-show").textContent = `o, δ on the nodes: ${labelsShow(frame)}`;
    },
    /** The server's word on the problem (SessionState.problem): never guessed from names. */
    problem({ kind, classes, outputs }) {
      if (!$("problem")) return;
      $("problem").textContent = kind === "regression" ? (outputs > 1 ? `regression, ${outputs} outputs` : "regression")
        : classes > 2 ? `${classes} classes` : "classification";
    },
  };
}
