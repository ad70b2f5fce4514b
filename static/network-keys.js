// Draws nothing itself: the network by keyboard. The canvas takes focus; the arrows move between
// nodes and edges (network-view.js draws the one reached as the selection), Enter opens the inspector
// on it, and an aria-live line names it. Reads state.layers, state.feature_labels and frame.layers
// (o, δ, W, ∂E/∂W, b, ∂E/∂b). Emits "pick" {target}.

import { emit } from "./events.js";
import { fmt3, labelsShow } from "./labels.js";
import { edgeNumbers } from "./network-edges.js";

const node = (layer, j) => ({ kind: "node", layer, j });
const weight = (layer, i, j) => ({ kind: "W", layer, i, j });
const bias = (layer, j) => ({ kind: "b", layer, i: j, j });   // as hitTest() names a bias

/** Every edge into layer k, from each node of layer k−1 in turn, then the bias's. */
function edgesInto(sizes, k) {
  const out = [];
  for (let i = 0; i < sizes[k - 1]; i++) for (let j = 0; j < sizes[k]; j++) out.push(weight(k, i, j));
  for (let j = 0; j < sizes[k]; j++) out.push(bias(k, j));
  return out;
}

const same = (a, b) => a.kind === b.kind && a.layer === b.layer && a.i === b.i && a.j === b.j;

/** Where an arrow key leads from `at` in a network of `sizes`: ↑↓ along a column of nodes or along
 * the edges into one layer, → from a node to its first edge out and from an edge to the node it
 * feeds, ← from a node to its first edge in and from a weight to the node it comes from. */
export function moveFrom(at, key, sizes) {
  const L = sizes.length - 1;
  const valid = at && at.layer <= L && at.j < sizes[at.layer] && (at.kind !== "W" || at.i < sizes[at.layer - 1]);
  if (!valid) return node(0, 0);
  const by = { ArrowDown: 1, ArrowUp: -1 }[key];
  if (at.kind === "node") {
    if (by) return node(at.layer, Math.max(0, Math.min(sizes[at.layer] - 1, at.j + by)));
    if (key === "ArrowRight") return at.layer < L ? weight(at.layer + 1, at.j, 0) : at;
    return at.layer > 0 ? weight(at.layer, 0, at.j) : at;
  }
  if (by) {
    const list = edgesInto(sizes, at.layer);
    const n = list.findIndex((e) => same(e, at));
    return list[Math.max(0, Math.min(list.length - 1, n + by))];
  }
  if (key === "ArrowRight") return node(at.layer, at.j);
  return at.kind === "W" ? node(at.layer - 1, at.i) : at;
}

/** The readout's words for a target, with its numbers in the frame (batch mean or one example). */
export function describe(t, state, frame) {
  const L = state.layers.length - 1;
  const which = labelsShow(frame);
  if (t.kind === "node") {
    if (t.layer === 0) return `input ${(state.feature_labels || [])[t.j] || `x${t.j + 1}`}, node ${t.j + 1} of layer 0`;
    const role = t.layer === L ? "output" : "hidden";
    const layer = frame && frame.layers[t.layer - 1];
    const numbers = layer && layer.o && layer.o.length ? `: o ${fmt3(layer.o[t.j])}, δ ${fmt3(layer.delta[t.j])} (${which})` : "";
    return `${role} node ${t.j + 1} of layer ${t.layer}${numbers}`;
  }
  const nums = frame ? edgeNumbers(frame, state.layers, t) : null;
  const values = nums && Number.isFinite(nums.w) ? `: ${t.kind === "W" ? "w" : "b"} ${fmt3(nums.w)}`
    + (Number.isFinite(nums.grad) ? `, gradient ${fmt3(nums.grad)}` : "") : "";
  if (t.kind === "b") return `bias of node ${t.j + 1} of layer ${t.layer}${values}`;
  return `weight from node ${t.i + 1} of layer ${t.layer - 1} to node ${t.j + 1} of layer ${t.layer}${values}`;
}

/** canvas: the network's; readout: its aria-live line; page: the page's state; view: network-view.js. */
export function createNetworkKeys(canvas, readout, page, view) {
  let at = null;
  canvas.tabIndex = 0;
  canvas.dataset.keys = "ArrowUp ArrowDown ArrowLeft ArrowRight Enter";   // keys.js: not shortcuts here
  const say = (text) => { readout.textContent = text; };

  canvas.addEventListener("focus", () => say(at ? describe(at, page.state, page.frame)
    : "the network: arrow keys move between nodes and edges, Enter shows one in the inspector"));
  canvas.addEventListener("keydown", (e) => {
    if (!page.state || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Enter" && at) {
      e.preventDefault();
      emit("pick", { target: at });
      say(`${describe(at, page.state, page.frame)}; in the inspector`);
      return;
    }
    if (!e.key.startsWith("Arrow")) return;
    e.preventDefault();
    at = moveFrom(at, e.key, page.state.layers);
    view.select(at);
    say(describe(at, page.state, page.frame));
  });
  // Tab focuses the network, a click does not: after picking an edge with the mouse, ← and → walk the
  // step's phases (controls.js) as before
  canvas.addEventListener("mousedown", (e) => e.preventDefault());
  // a click picks with the mouse: the keys go on from there
  document.addEventListener("pick", ({ detail: { target } }) => { at = target; });
}
