// Draws the network's edges: coloured by |∂E/∂w| (log scale, hue = sign) or w or Δw, thick by |w|;
// edges of one shade and width share one stroke. Reads
// frame.layers[k−1] {W, dE_dW, update_W, b, dE_db, update_b}. Emits no events.

import { diverging, logStrength, topDecade } from "./colors.js";
import { edgeEnds } from "./network-layout.js";

export const DECADES = 4;
const SHADES = 255;     // edge shades a side: as many as one 8-bit colour channel holds
const FIELD = { gradient: ["dE_dW", "dE_db"], weight: ["W", "b"], update: ["update_W", "update_b"] };

/** Entry (i, j) of a layer's flat field (i = −1: the bias of node j); NaN when the frame lacks it. */
function edgeValue(layer, sizes, k, i, j, field) {
  const arr = layer[field];
  if (!arr || arr.length === 0) return NaN;
  return i === -1 ? arr[j] : arr[i * sizes[k] + j];
}

/** The server's w, ∂E/∂w and Δw of one edge (a weight, or a bias b_j^k) in a frame. */
export function edgeNumbers(frame, sizes, { kind, layer: k, i, j }) {
  const at = kind === "b" ? -1 : i;
  const [w, grad, update] = kind === "b" ? ["b", "dE_db", "update_b"] : ["W", "dE_dW", "update_W"];
  const layer = frame.layers[k - 1];
  return { w: edgeValue(layer, sizes, k, at, j, w), grad: edgeValue(layer, sizes, k, at, j, grad),
    update: edgeValue(layer, sizes, k, at, j, update) };
}

/** Stroke every edge of a frame on ctx (geo: network-layout.js); returns the scale's top decade. */
export function drawEdges(ctx, geo, frame, { mode, z }) {
  const { sizes, S } = geo;
  const [wField, bField] = FIELD[mode];
  const top = topDecade(frame.layers.map((l) => [...(l[wField] || []), ...(l[bField] || [])]), 0);
  const groups = new Map();
  for (let k = 1; k < sizes.length; k++) {
    const layer = frame.layers[k - 1];
    for (let i = -1; i < sizes[k - 1]; i++) {
      for (let j = 0; j < sizes[k]; j++) {
        const v = edgeValue(layer, sizes, k, i, j, i === -1 ? bField : wField);
        const w = edgeValue(layer, sizes, k, i, j, i === -1 ? "b" : "W");
        const shade = Number.isFinite(v) ? Math.round(logStrength(v, top, DECADES) * SHADES) : NaN;
        const thick = Math.round(Math.min(6, 0.6 + (Math.abs(w) || 0) * 2) * 4) / 4;
        const key = `${shade} ${thick}`;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { shade, thick, path: new Path2D() }));
        const [x0, y0, x1, y1] = edgeEnds(geo, k, i, j);
        g.path.moveTo(x0, y0);
        g.path.lineTo(x1, y1);
      }
    }
  }
  const crowd = Math.max(0.45, Math.min(1, S / 80));      // thinner when crowded
  const big = (g) => (2 + 2 * g.thick) * crowd;
  if (z > 1) {                 // projector: thick, with a grey rim so pale edges still show
    ctx.strokeStyle = "#666";
    for (const g of groups.values()) {
      ctx.lineWidth = big(g) + (S >= 60 ? 2 : 1);
      ctx.stroke(g.path);
    }
  }
  for (const g of groups.values()) {
    ctx.strokeStyle = Number.isNaN(g.shade) ? "#ddd" : diverging(g.shade / SHADES);
    ctx.lineWidth = z > 1 ? big(g) : g.thick;
    ctx.stroke(g.path);
  }
  return top;
}
