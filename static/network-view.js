// Draws the network: input, hidden and output nodes with a heatmap each, bias nodes, and edges
// coloured by |∂E/∂w| (log scale, hue = sign) or w or Δw, thick by |w|. Reads frame.layers[k−1]
// {W, dE_dW, update_W, b, dE_db, update_b, o, delta}, frame.phase. Emits "hover", "pick".

import { ACTIVE, INK, diverging, divergingTable, logStrength, topDecade } from "./colors.js";
import { fitCanvas, fmt } from "./util.js";

const DECADES = 4;
const FIELD = { gradient: ["dE_dW", "dE_db"], weight: ["W", "b"], update: ["update_W", "update_b"] };
const emit = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));

export function createNetworkView(canvas, opts = {}) {
  const table = divergingTable();
  let ctx = null;
  let sizes = [2, 1];
  let labels = [];
  let nodes = [];      // nodes[k][j] = {x, y} top-left; bias[k] = {x, y} centre, feeding layer k
  let bias = [];
  let S = 30;
  let thumbs = [];     // thumbs[k][j] = offscreen canvas
  let last = null;
  let mode = opts.mode || "gradient";
  let z = 1;            // projector: 1.8 — bigger nodes, type and lines
  let selected = null;
  let hovered = null;
  let top = 0;
  let width = 0;
  let height = 0;
  let roomy = true;     // room between columns for the o and δ labels

  function layout() {
    const rect = canvas.parentElement.getBoundingClientRect();
    width = Math.max(240, rect.width);
    height = Math.max(180, rect.height);
    ctx = fitCanvas(canvas, width, height);
    const cols = sizes.length;
    const most = Math.max(...sizes) + 1;
    S = Math.max(10, Math.min((height > 500 ? 60 : 44) * z, (height - 16) / (most * 1.45), (width - 40) / (cols * 2.2)));
    const label = 78 * z;                                         // room for the output's o and δ
    ctx.font = font();
    const need = Math.max(60, ctx.measureText("δ -0.0000").width + 8 * z);
    const left = Math.max(24 * z, ...labels.map((t) => ctx.measureText(t).width + 6));  // input names
    const fit = (width - left - label - need * (cols - 1)) / cols;   // largest S that leaves room
    if (z > 1 && fit < S && fit >= S * 0.75) S = fit;             // projector: keep every o and δ
    const gapX = (width - left - label - S) / Math.max(1, cols - 1);
    roomy = gapX - S >= need - 0.5;
    nodes = sizes.map((n, k) => {
      const x = left + k * gapX;
      const step = Math.min(S * 1.6, (height - 16) / (n + 1));
      const y0 = (height - step * (n + (k < cols - 1 ? 1 : 0)) + (step - S)) / 2;
      return Array.from({ length: n }, (_, j) => ({ x, y: y0 + j * step }));
    });
    bias = sizes.map((n, k) => {
      if (k === 0) return null;
      const col = nodes[k - 1];
      const lastNode = col[col.length - 1];
      const step = col.length > 1 ? col[1].y - col[0].y : S * 1.6;
      return { x: lastNode.x + S / 2, y: lastNode.y + step + S / 2 };
    });
  }

  const font = () => `${z > 1 ? "600 " : ""}${Math.max(9 * z, Math.min(12 * z, S / 3.2))}px system-ui, sans-serif`;

  const biasRadius = () => (z > 1 ? Math.max(S * 0.2, 11) : S * 0.2);

  function edgeEnds(k, i, j) {
    const from = i === -1 ? bias[k] : { x: nodes[k - 1][i].x + S, y: nodes[k - 1][i].y + S / 2 };
    const to = nodes[k][j];
    return [from.x + (i === -1 ? biasRadius() : 0), from.y, to.x, to.y + S / 2];
  }

  function edgeValue(layer, k, i, j, field) {
    const arr = layer[field];
    if (!arr || arr.length === 0) return NaN;
    return i === -1 ? arr[j] : arr[i * sizes[k] + j];
  }

  function drawEdges(frame) {
    const [wField, bField] = FIELD[mode];
    top = topDecade(frame.layers.map((l) => [...(l[wField] || []), ...(l[bField] || [])]), 0);
    for (let k = 1; k < sizes.length; k++) {
      const layer = frame.layers[k - 1];
      for (let i = -1; i < sizes[k - 1]; i++) {
        for (let j = 0; j < sizes[k]; j++) {
          const v = edgeValue(layer, k, i, j, i === -1 ? bField : wField);
          const w = edgeValue(layer, k, i, j, i === -1 ? "b" : "W");
          const [x0, y0, x1, y1] = edgeEnds(k, i, j);
          const thick = Math.min(6, 0.6 + Math.abs(w) * 2);
          ctx.beginPath();
          ctx.moveTo(x0, y0);
          ctx.lineTo(x1, y1);
          const big = (2 + 2 * thick) * Math.max(0.45, Math.min(1, S / 80));   // thinner when crowded
          if (z > 1) {                 // projector: thick, with a grey rim so pale edges still show
            ctx.strokeStyle = "#666";
            ctx.lineWidth = big + (S >= 60 ? 2 : 1);
            ctx.stroke();
          }
          ctx.strokeStyle = Number.isFinite(v) ? diverging(logStrength(v, top, DECADES)) : "#ddd";
          ctx.lineWidth = z > 1 ? big : thick;
          ctx.stroke();
        }
      }
    }
  }

  /** A label; on a projector with a white halo so that edges under it do not cut it. */
  function text(s, x, y) {
    if (z > 1) {
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 5;
      ctx.lineJoin = "round";
      ctx.strokeText(s, x, y);
    }
    ctx.fillText(s, x, y);
  }

  function drawNodes(frame) {
    ctx.font = font();
    ctx.textBaseline = "top";
    for (let k = 0; k < sizes.length; k++) {
      const layer = k === 0 ? null : frame.layers[k - 1];
      nodes[k].forEach((p, j) => {
        const thumb = thumbs[k] && thumbs[k][j];
        if (thumb) {
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(thumb, p.x, p.y, S, S);
        } else {
          ctx.fillStyle = "#fff";
          ctx.fillRect(p.x, p.y, S, S);
        }
        ctx.strokeStyle = INK;
        ctx.lineWidth = z > 1 ? 2.5 : 1;
        ctx.strokeRect(p.x + ctx.lineWidth / 2, p.y + ctx.lineWidth / 2, S - ctx.lineWidth, S - ctx.lineWidth);
        ctx.fillStyle = INK;
        if (k === 0) {
          ctx.textAlign = "right";
          ctx.fillText(labels[j] || `x${j + 1}`, p.x - 3, p.y + S / 3);
          ctx.textAlign = "left";
        } else if ((roomy || k === sizes.length - 1) && S >= 18 && layer && layer.o && layer.o.length) {
          text(`o ${fmt(layer.o[j])}`, p.x + S + 3 * z, p.y);
          if (layer.delta && layer.delta.length) text(`δ ${fmt(layer.delta[j])}`, p.x + S + 3 * z, p.y + S / 2);
        }
      });
      if (bias[k + 1]) {
        const b = bias[k + 1];
        ctx.strokeStyle = INK;
        ctx.lineWidth = z > 1 ? 2.5 : 1;
        ctx.beginPath();
        ctx.arc(b.x, b.y, biasRadius(), 0, 2 * Math.PI);
        ctx.fillStyle = "#fff";
        ctx.fill();
        ctx.stroke();
        ctx.fillStyle = INK;
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText("1", b.x, b.y + 1);
        ctx.textBaseline = "top";
        ctx.textAlign = "left";
      }
    }
  }

  function drawHighlights(frame) {
    const p = frame.phase;
    if (p && p.layer) {
      const col = nodes[p.layer];
      ctx.fillStyle = ACTIVE;
      ctx.fillRect(col[0].x - 8, 4, S + 16, height - 8);
    }
    const target = selected || null;
    if (!target) return;
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 3;
    ctx.setLineDash([4, 3]);
    if (target.kind === "node") {
      const q = nodes[target.layer][target.j];
      ctx.strokeRect(q.x - 3, q.y - 3, S + 6, S + 6);
    } else {
      const [x0, y0, x1, y1] = edgeEnds(target.layer, target.kind === "b" ? -1 : target.i, target.j);
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }

  function draw(frame) {
    last = frame;
    if (!ctx || !frame || frame.layers.length !== sizes.length - 1) return;
    ctx.clearRect(0, 0, width, height);
    drawHighlights(frame);
    drawEdges(frame);
    drawNodes(frame);
  }

  function hit(x, y) {
    for (let k = 0; k < sizes.length; k++) {
      const j = nodes[k].findIndex((p) => x >= p.x && x <= p.x + S && y >= p.y && y <= p.y + S);
      if (j >= 0) return { kind: "node", layer: k, j };
    }
    let best = null;
    let bestD = 5;
    for (let k = 1; k < sizes.length; k++) {
      for (let i = -1; i < sizes[k - 1]; i++) {
        for (let j = 0; j < sizes[k]; j++) {
          const d = segmentDistance(x, y, ...edgeEnds(k, i, j));
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

  function setHeatmaps(hm) {
    thumbs = hm.nodes.map((layer) =>
      layer.map((grid) => {
        const c = document.createElement("canvas");
        c.width = c.height = hm.thumb;
        const img = new ImageData(hm.thumb, hm.thumb);
        for (let p = 0; p < grid.length; p++) img.data.set(table.subarray(grid[p] * 4, grid[p] * 4 + 4), p * 4);
        c.getContext("2d").putImageData(img, 0, 0);
        return c;
      }),
    );
    if (last) draw(last);
  }

  const pos = (e) => {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  canvas.addEventListener("mousemove", (e) => {
    const target = hit(...pos(e));
    const key = JSON.stringify(target);
    if (key === JSON.stringify(hovered)) return;
    hovered = target;
    canvas.style.cursor = target ? "pointer" : "default";
    const node = target && target.kind === "node" ? nodes[target.layer][target.j] : null;
    emit("hover", { target, thumb: node ? thumbs[target.layer] && thumbs[target.layer][target.j] : null,
      x: node ? node.x + S + 6 : 0, y: node ? node.y : 0 });
  });
  canvas.addEventListener("mouseleave", () => {
    hovered = null;
    emit("hover", { target: null });
  });
  canvas.addEventListener("click", (e) => emit("pick", { target: hit(...pos(e)) }));

  return {
    setStructure(state) {
      sizes = state.layers;
      labels = state.feature_labels || [];
      thumbs = [];
      layout();
    },
    setHeatmaps,
    draw,
    resize() {
      layout();
      if (last) draw(last);
    },
    setMode(m) {
      mode = m;
      if (last) draw(last);
    },
    /** {mode, big}: the edge quantity, and projector scale (bigger nodes, type and lines). */
    setOptions(o) {
      if (o.mode) mode = o.mode;
      if (o.big !== undefined) z = o.big ? 1.8 : 1;
    },
    select(target) {
      selected = target;
      if (last) draw(last);
    },
    hit,
    scale: () => ({ top, decades: DECADES, mode }),
    nodePosition: (k, j) => ({ ...nodes[k][j], size: S }),
  };
}

function segmentDistance(px, py, x0, y0, x1, y1) {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
}
