// Draws nothing: the network view's geometry — node squares, bias circles, edge ends and hit tests —
// from the layer sizes, the canvas size and the projector scale. Reads no frame fields (only
// SessionState.layers and feature labels through the view). Emits no events.

/** Node size S, node and bias positions, and whether the o/δ labels fit between columns. `ctx` measures
 * the labels in font(S). nodes[k][j] = {x, y} top-left; bias[k] = {x, y} centre, feeding layer k. */
export function layoutNetwork(ctx, { sizes, labels, width, height, z, font }) {
  const cols = sizes.length;
  const most = Math.max(...sizes) + 1;
  let S = Math.max(10, Math.min((height > 500 ? 60 : 44) * z, (height - 16) / (most * 1.45), (width - 40) / (cols * 2.2)));
  const label = 78 * z;                                         // room for the output's o and δ
  ctx.font = font(S);
  const need = Math.max(60, ctx.measureText("δ -0.0000").width + 8 * z);
  const left = Math.max(24 * z, ...labels.map((t) => ctx.measureText(t).width + 6));  // input names
  const fit = (width - left - label - need * (cols - 1)) / cols;   // largest S that leaves room
  if (z > 1 && fit < S && fit >= S * 0.75) S = fit;             // projector: keep every o and δ
  const gapX = (width - left - label - S) / Math.max(1, cols - 1);
  const nodes = sizes.map((n, k) => {
    const x = left + k * gapX;
    const step = Math.min(S * 1.6, (height - 16) / (n + 1));
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
  return { sizes, nodes, bias, S, z, roomy: gapX - S >= need - 0.5 };
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
