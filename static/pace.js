// Draws the pace menus' labels: each choice in epochs/s beside the steps/s it means for this network
// (an epoch = the training set once = ceil(training points / batch size) steps, as TFP counts it).
// Reads a state's points.train and config.batch_size. Emits nothing.

import { send } from "./api.js";

/** Steps one epoch takes: the state's training points in batches of `batchSize` (the state's own
 * batch size when not given); 1 before any state has come. */
export function stepsPerEpoch(state, batchSize = null) {
  if (!state || !state.points) return 1;
  const rows = state.points.train.x.length;
  const batch = batchSize ?? state.config.batch_size;
  return Math.max(1, Math.ceil(rows / Math.max(1, Math.min(batch, rows || 1))));
}

/** What POST /play is asked for: `pace` epochs/s as steps/s (null, as fast as it goes, stays null). */
export const stepsPerSecond = (pace, perEpoch) => (pace === null ? null : pace * perEpoch);

const figure = (n) => (n >= 10 ? String(Math.round(n)) : String(Number(n.toPrecision(2))));

/** Label each numeric choice of `select` (values in epochs/s) with its steps/s too. */
export function labelPaces(select, perEpoch) {
  for (const option of select.options) {
    if (option.value === "max") continue;
    const pace = Number(option.value);
    option.textContent = `${figure(pace)} epochs/s · ${figure(pace * perEpoch)} steps/s`;
  }
  select.title = `epochs a second while playing; an epoch here is ${perEpoch} step${perEpoch === 1 ? "" : "s"}`;
}

let presets = null;

/** The pace a lecture preset is meant to be played at (epochs/s; GET /api/presets, asked once). */
export async function presetPace(name) {
  presets = presets || send("GET", "/api/presets").catch(() => []);
  const found = (await presets).find((p) => p.name === name);
  return found ? found.pace : undefined;
}
