// Draws nothing: the network view's geometry — node squares, bias circles, edge ends, hit tests and
// where the labels go — from the layer sizes, the canvas size and the projector scale. Reads no frame fields (only
// SessionState.layers and feature labels through the view). Emits no events.

import { placeLabels } from "./labels.js";

/** The widest o or δ label a node can have (3 significant digits, network-view.js). */
export const LABEL_SAMPLE = "δ -8.88e-88";

/** Node size S, node and bias positions, and whether the o/δ labels fit between columns. `ctx` measures
 * the labels in font(S). nodes[k][j] = {x, y} top-left; bias[k] = {x, y} centre, feeding layer k. */
export function layoutNetwork(ctx, { sizes, labels, width, height, z, font }) {
  const cols = sizes.length;
  const most = Math.max(...sizes) + 1;
  let S = Math.max(10, Math.min((height > 500 ? 60 : 44) * z, (height - 16) / (most * 1.45), (width - 40) / (cols * 2.2)));
  ctx.font = font(S);
  const need = Math.max(60, ctx.measureText(LABEL_SAMPLE).width + 8 * z);
  const label = Math.max(78 * z, need);                         // room for the output's o and δ
  const left = Math.max(24 * z, ...labels.map((t) => ctx.measureText(t).width + 6));  // input names
  const fit = (width - left - label - need * (cols - 1)) / cols;   // largest S that leaves room
  if (z > 1 && fit < S && fit >= S * 0.75) S = fit;             // projector: keep every o and δ
  let gapX = (width - left - label - S) / Math.max(1, cols - 1);
  const roomy = gapX - S >= need - 0.5;
  // No room beside the hidden nodes: room under each instead, for its o and δ lines (smaller nodes if need be).
  const under = (s) => 2 * Math.ceil(parseFloat(font(s).match(/([\d.]+)px/)[1]) * 1.2) + 8 * z + 6;
  const avail = (height - 16) / most;
  if (!roomy && cols > 2 && S + under(S) > avail) S = Math.max(S * 0.7, avail - under(S));
  gapX = (width - left - label - S) / Math.max(1, cols - 1);
  const nodes = sizes.map((n, k) => {
    const x = left + k * gapX;
    const tall = !roomy && k > 0 && k < cols - 1;
    const step = Math.min(tall ? Math.max(S * 1.6, S + under(S)) : S * 1.6, (height - 16) / (n + 1));
    const y0 = (height - step * (n + (k < cols - 1 ? 1 : 0)) + (step - S)) / 2;
    return Array.from({ length: n }, (_, j) => ({ x, y: y0 + j * step }));
  });
  const bias = sizes.map((n, k) => {
    if (k === 0) return null;
    const col = nodes[k - 1];
    const lastNode = col[col.length - 1];
    const step = col.length > 1 ? col[1].y - col[0].y : S * 1.6;
    return { x: lastNode.x + S / 2, y: lastNode.y + step + S / 2 };
  });
  return { sizes, nodes, bias, S, z, roomy };
}

/** Every node's and bias circle's box: {kind: "node" | "bias", key, x, y, w, h}. */
export function nodeBoxes(geo) {
  const { nodes, bias, S } = geo;
  const out = [];
  nodes.forEach((col, k) => col.forEach((p, j) => out.push({ kind: "node", key: [k, j], x: p.x, y: p.y, w: S, h: S })));
  const r = biasRadius(geo);
  bias.forEach((b, k) => b && out.push({ kind: "bias", key: [k], x: b.x - r, y: b.y - r, w: 2 * r, h: 2 * r }));
  return out;
}

/** Where the labels go, once a layout: the input names left of their nodes, and a place for each
 * node's "o …" and "δ …" line that fits beside it, each measured as the widest it can be
 * (LABEL_SAMPLE), so nothing moves from frame to frame. `ctx.font` is the labels' font, px its size.
 * Returns {inputs: [{kind, text, x, y, w, h}], spots: [{key: [k, j], line, x, y, w, h}], dropped, lh}. */
export function labelPlan(ctx, geo, { names, px, width, height }) {
  const { nodes, S, z } = geo;
  const lh = Math.ceil(px * 1.2);
  const inputs = names.map((text, j) => {
    const w = ctx.measureText(text).width;
    return { kind: "input", text, x: nodes[0][j].x - 3 - w, y: nodes[0][j].y + (S - px) / 2, w, h: px };
  });
  const groups = [];
  for (let k = 1; S >= 18 && k < nodes.length; k++) {
    const under = !geo.roomy && k < nodes.length - 1;       // the layout left room under these nodes
    nodes[k].forEach((p, j) => groups.push({ key: [k, j], anchor: { x: p.x, y: p.y, w: S, h: S }, lines: ["o", "δ"], under }));
  }
  const sample = ctx.measureText(LABEL_SAMPLE).width + 2;
  const { placed, dropped } = placeLabels(groups, { fixed: [...nodeBoxes(geo), ...inputs],
    bounds: { x: 1, y: 1, w: width - 2, h: height - 2 }, measure: () => sample, lh, gap: 3 * z + 2 });
  return { inputs, spots: placed, dropped, lh };
}

export const biasRadius = (geo) => (geo.z > 1 ? Math.max(geo.S * 0.2, 11) : geo.S * 0.2);

/** [x0, y0, x1, y1] of the edge from node i of layer k−1 (i = −1: the bias) to node j of layer k. */
export function edgeEnds(geo, k, i, j) {
  const { nodes, bias, S } = geo;
  const from = i === -1 ? bias[k] : { x: nodes[k - 1][i].x + S, y: nodes[k - 1][i].y + S / 2 };
  const to = nodes[k][j];
  return [from.x + (i === -1 ? biasRadius(geo) : 0), from.y, to.x, to.y + S / 2];
}

/** The node or edge under (x, y): {kind: "node", layer, j} | {kind: "W", layer, i, j} | {kind: "b", layer, i, j}. */
export function hitTest(geo, x, y) {
  const { sizes, nodes, S } = geo;
  for (let k = 0; k < sizes.length; k++) {
    const j = nodes[k].findIndex((p) => x >= p.x && x <= p.x + S && y >= p.y && y <= p.y + S);
    if (j >= 0) return { kind: "node", layer: k, j };
  }
  let best = null;
  let bestD = 5;
  for (let k = 1; k < sizes.length; k++) {
    for (let i = -1; i < sizes[k - 1]; i++) {
      for (let j = 0; j < sizes[k]; j++) {
        const d = segmentDistance(x, y, ...edgeEnds(geo, k, i, j));
        if (d < bestD) {
          bestD = d;
          best = i === -1 ? { kind: "b", layer: k, i: j } : { kind: "W", layer: k, i, j };
        }
      }
    }
  }
  if (best && best.kind === "b") best.j = best.i;
  return best;
}

function segmentDistance(px, py, x0, y0, x1, y1) {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}
