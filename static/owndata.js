// Draws nothing: the user's own points — parse a CSV of x1, x2, label (±1 or 0/1) and edit a point
// list by clicks on the plane. Reads no frame fields; errors name the line and the reason.
// Emits no events (controls.js emits "own-data").

import { REGISTRY } from "./registry.js";

const LIMIT = REGISTRY.plane;   // own points lie in the plane [−LIMIT, LIMIT]², as the server checks

/** CSV text → {inputs, labels}; throws Error("line 3: …") on the first bad line. */
export function parseCSV(text) {
  const inputs = [];
  const labels = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    const where = `line ${index + 1}`;
    if (!line || line.startsWith("#")) return;
    const cells = line.split(/[,;\t]/).map((c) => c.trim());
    if (index === 0 && cells.some((c) => c !== "" && Number.isNaN(Number(c)))) return;  // a header
    if (cells.length !== 3) throw new Error(`${where}: expected 3 values (x1, x2, label), found ${cells.length}`);
    const [x1, x2, y] = cells.map(Number);
    if (![x1, x2, y].every(Number.isFinite) || cells.some((c) => c === "")) {
      throw new Error(`${where}: “${line}” is not three numbers`);
    }
    if (Math.abs(x1) > LIMIT || Math.abs(x2) > LIMIT) {
      throw new Error(`${where}: x1 and x2 must lie in [−${LIMIT}, ${LIMIT}], got (${x1}, ${x2})`);
    }
    if (![1, -1, 0].includes(y)) throw new Error(`${where}: the label must be 1, −1 or 0, got ${cells[2]}`);
    inputs.push([x1, x2]);
    labels.push(y === 0 ? -1 : y);
  });
  if (inputs.length === 0) throw new Error("the file holds no points");
  return { inputs, labels };
}

/** A new point list with (x1, x2, label) added, or the point nearest (x1, x2) within r removed. */
export function editPoints(data, { x1, x2, remove, radius }, label) {
  const inputs = data ? [...data.inputs] : [];
  const labels = data ? [...data.labels] : [];
  if (!remove) {
    inputs.push([clamp(x1), clamp(x2)]);
    labels.push(label);
    return { inputs, labels };
  }
  let best = -1;
  let bestD = radius;
  inputs.forEach(([a, b], i) => {
    const d = Math.hypot(a - x1, b - x2);
    if (d < bestD) { bestD = d; best = i; }
  });
  if (best >= 0) { inputs.splice(best, 1); labels.splice(best, 1); }
  return { inputs, labels };
}

const clamp = (v) => Math.max(-LIMIT, Math.min(LIMIT, Math.round(v * 1000) / 1000));

/** A state's points (train and test, at most 400) as the start of the user's own, labels ±1. */
export function pointsAsData(state) {
  const pts = state ? state.points : { train: { x: [], y: [] }, test: { x: [], y: [] } };
  const xs = [...pts.train.x, ...pts.test.x].slice(0, 400);
  const ys = [...pts.train.y, ...pts.test.y].slice(0, 400);
  // Class indices 0, 1, 2…: class 0 becomes −1, the others +1; binary labels keep their sign.
  const indices = state && state.problem.classes > 2;
  return { inputs: xs, labels: ys.map((y) => ((indices ? y > 0 : y >= 0) ? 1 : -1)) };
}
