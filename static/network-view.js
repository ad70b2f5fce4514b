// Draws the network: input, hidden and output nodes with a heatmap each, bias nodes, and edges
// coloured by |∂E/∂w| (log scale, hue = sign) or w or Δw, thick by |w|. Reads frame.layers[k−1]
// {W, dE_dW, update_W, b, dE_db, update_b, o, delta}, frame.phase. Emits "hover" (a node's
// thumbnail, or an edge's numbers), "pick".

import { ACTIVE, INK, diverging, divergingTable, logStrength, topDecade } from "./colors.js";
import { biasRadius, edgeEnds, hitTest, layoutNetwork } from "./network-layout.js";
import { fitCanvas, fmt } from "./util.js";

const DECADES = 4;
const FIELD = { gradient: ["dE_dW", "dE_db"], weight: ["W", "b"], update: ["update_W", "update_b"] };
const emit = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));

export function createNetworkView(canvas, opts = {}) {
  const table = divergingTable();
  let ctx = null;
  let sizes = [2, 1];
  let labels = [];
  let geo = null;       // network-layout.js: {nodes, bias, S, roomy, …}
  let nodes = [];       // nodes[k][j] = {x, y} top-left; bias[k] = {x, y} centre, feeding layer k
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
    geo = layoutNetwork(ctx, { sizes, labels, width, height, z, font: (size) => font(size) });
    ({ nodes, bias, S, roomy } = geo);
  }

  const font = (size = S) => `${z > 1 ? "600 " : ""}${Math.max(9 * z, Math.min(12 * z, size / 3.2))}px system-ui, sans-serif`;

  function edgeValue(layer, k, i, j, field) {
    const arr = layer[field];
    if (!arr || arr.length === 0) return NaN;
    return i === -1 ? arr[j] : arr[i * sizes[k] + j];
  }

  /** The server's w, ∂E/∂w and Δw of one edge (a weight, or a bias b_j^k) in a frame. */
  function edgeNumbers(frame, { kind, layer: k, i, j }) {
    const at = kind === "b" ? -1 : i;
    const [w, grad, update] = kind === "b" ? ["b", "dE_db", "update_b"] : ["W", "dE_dW", "update_W"];
    const layer = frame.layers[k - 1];
    return { w: edgeValue(layer, k, at, j, w), grad: edgeValue(layer, k, at, j, grad),
      update: edgeValue(layer, k, at, j, update) };
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
          const [x0, y0, x1, y1] = edgeEnds(geo, k, i, j);
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
        ctx.arc(b.x, b.y, biasRadius(geo), 0, 2 * Math.PI);
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
      const [x0, y0, x1, y1] = edgeEnds(geo, target.layer, target.kind === "b" ? -1 : target.i, target.j);
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

  const hit = (x, y) => (geo ? hitTest(geo, x, y) : null);

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
    const [x, y] = node ? [node.x + S + 6, node.y] : pos(e);
    emit("hover", { target, thumb: node ? thumbs[target.layer] && thumbs[target.layer][target.j] : null,
      edge: target && !node && last ? edgeNumbers(last, target) : null, x, y });
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
