// Draws the network: input, hidden and output nodes with a heatmap each, bias nodes, the edges
// (network-edges.js), o/δ labels where they fit (network-layout.js labelPlan). Reads
// frame.layers[k−1] {W, dE_dW, update_W, b, dE_db, update_b, o, delta}, frame.phase; heatmaps.nodes.
// Emits "hover" (a node's thumbnail and numbers, or an edge's numbers), "pick".

import { ACTIVE, INK, divergingTable } from "./colors.js";
import { emit } from "./events.js";
import { fmt3 } from "./labels.js";
import { DECADES, drawEdges, edgeNumbers } from "./network-edges.js";
import { biasRadius, edgeEnds, hitTest, labelPlan, layoutNetwork, nodeBoxes } from "./network-layout.js";
import { PROJECTOR_SCALE, fitCanvas } from "./util.js";

export function createNetworkView(canvas, opts = {}) {
  const table = new Uint32Array(divergingTable().buffer);   // one RGBA pixel per heatmap byte
  let ctx = null;
  let sizes = [2, 1];
  let labels = [];
  let geo = null;       // network-layout.js: {nodes, bias, S, z, …}
  let nodes = [];       // nodes[k][j] = {x, y} top-left; bias[k] = {x, y} centre, feeding layer k
  let bias = [];
  let S = 30;
  let atlas = null;     // every node's heatmap side by side in one canvas: {canvas, ctx, img, px, t, at}
  let plan = { inputs: [], spots: [], dropped: [], lh: 12 };   // network-layout.js labelPlan()
  let px = 12;          // label font size
  let last = null;
  let mode = opts.mode || "gradient";
  let z = 1;            // projector: PROJECTOR_SCALE — bigger nodes, type and lines
  let selected = null;
  let hovered = null;
  let top = 0;
  let width = 0;
  let height = 0;

  function layout() {
    const rect = canvas.parentElement.getBoundingClientRect();
    width = Math.max(240, rect.width);
    height = Math.max(180, rect.height);
    ctx = fitCanvas(canvas, width, height);
    geo = layoutNetwork(ctx, { sizes, labels, width, height, z, font: (size) => font(size) });
    ({ nodes, bias, S } = geo);
    ctx.font = font();
    px = parseFloat(ctx.font.match(/([\d.]+)px/)[1]);
    plan = labelPlan(ctx, geo, { names: sizes.map((_, j) => inputName(j)).slice(0, sizes[0]), px, width, height });
  }

  const inputName = (j) => labels[j] || `x${j + 1}`;

  /** A label line's text in a frame: "o 0.123" or "δ -4.56e-3". */
  function lineText(frame, [k, j], line) {
    const layer = frame.layers[k - 1];
    const arr = line === 0 ? layer.o : layer.delta;
    return arr && arr.length ? `${line === 0 ? "o" : "δ"} ${fmt3(arr[j])}` : "";
  }

  const font = (size = S) => `${z > 1 ? "600 " : ""}${Math.max(9 * z, Math.min(12 * z, size / 3.2))}px system-ui, sans-serif`;

  /** A label with a white halo, so that the edges under it do not cut it. */
  function text(s, x, y) {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = z > 1 ? 5 : 3;
    ctx.lineJoin = "round";
    ctx.strokeText(s, x, y);
    ctx.fillText(s, x, y);
  }

  function drawNodes() {
    for (let k = 0; k < sizes.length; k++) {
      nodes[k].forEach((p, j) => paintNode(k, j, p));
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
        ctx.font = font();
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText("1", b.x, b.y + 1);
      }
    }
  }

  /** One node square: its heatmap (or white) and its frame. */
  function paintNode(k, j, p) {
    const at = atlas?.at[k]?.[j];   // undefined, not null, when there is no atlas yet
    if (at !== undefined) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(atlas.canvas, at, 0, atlas.t, atlas.t, p.x, p.y, S, S);
    } else {
      ctx.fillStyle = "#fff";
      ctx.fillRect(p.x, p.y, S, S);
    }
    ctx.strokeStyle = INK;
    ctx.lineWidth = z > 1 ? 2.5 : 1;
    ctx.strokeRect(p.x + ctx.lineWidth / 2, p.y + ctx.lineWidth / 2, S - ctx.lineWidth, S - ctx.lineWidth);
  }

  /** The input names, and each o/δ line at the place labelPlan() found for it. */
  function drawLabels(frame) {
    ctx.font = font();
    ctx.fillStyle = INK;
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    for (const b of plan.inputs) ctx.fillText(b.text, b.x, b.y);
    for (const s of plan.spots) {
      const str = lineText(frame, s.key, s.line);
      if (str) text(str, s.x, s.y + (plan.lh - px) / 2);
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
    top = drawEdges(ctx, geo, frame, { mode, z });
    drawNodes();
    drawLabels(frame);
  }

  /** What draw() last drew, in CSS pixels: every label's box with its text, every node's box. */
  function boxes() {
    ctx.font = font();
    const shown = last ? plan.spots.map((s) => ({ kind: "value", key: s.key, text: lineText(last, s.key, s.line),
      x: s.x, y: s.y, w: ctx.measureText(lineText(last, s.key, s.line)).width, h: s.h })).filter((b) => b.text) : [];
    return { width, height, nodes: nodeBoxes(geo), labels: [...plan.inputs, ...shown], dropped: plan.dropped };
  }

  const hit = (x, y) => (geo ? hitTest(geo, x, y) : null);

  /** Write every node's grid into one ImageData (kept between messages), put it once, and paint
   * only the node squares: the rest of the picture does not change with the heatmaps. */
  function setHeatmaps(hm) {
    const t = hm.thumb;
    const count = hm.nodes.reduce((s, layer) => s + layer.length, 0);
    if (!atlas || atlas.t !== t || atlas.count !== count) {
      const c = document.createElement("canvas");
      c.width = t * count;
      c.height = t;
      const actx = c.getContext("2d");
      const img = actx.createImageData(t * count, t);
      atlas = { canvas: c, ctx: actx, img, px: new Uint32Array(img.data.buffer), t, count, at: [] };
    }
    const { px } = atlas;
    const row = t * count;
    let m = 0;
    atlas.at = hm.nodes.map((layer) => layer.map((grid) => {
      const x0 = m++ * t;
      for (let y = 0, p = 0; y < t; y++) {
        const base = y * row + x0;
        for (let x = 0; x < t; x++, p++) px[base + x] = table[grid[p]];
      }
      return x0;
    }));
    atlas.ctx.putImageData(atlas.img, 0, 0);
    const fits = hm.nodes.length === sizes.length && hm.nodes.every((layer, k) => layer.length === sizes[k]);
    if (!fits) atlas.at = [];
    if (ctx && last && fits) nodes.forEach((col, k) => col.forEach((p, j) => paintNode(k, j, p)));
  }

  /** A node's heatmap as {canvas, sx, size} in the atlas, or null. */
  function thumbOf(k, j) {
    const at = atlas?.at[k]?.[j];   // undefined, not null, when there is no atlas yet
    return at === undefined ? null : { canvas: atlas.canvas, sx: at, size: atlas.t };
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
    const numbers = node && target.layer > 0 && last ? [0, 1].map((line) => lineText(last, [target.layer, target.j], line)).join("   ") : null;
    emit("hover", { target, thumb: node ? thumbOf(target.layer, target.j) : null,
      edge: target && !node && last ? edgeNumbers(last, sizes, target) : null, numbers, x, y });
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
      atlas = null;
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
      if (o.big !== undefined) z = o.big ? PROJECTOR_SCALE : 1;
    },
    select(target) {
      selected = target;
      if (last) draw(last);
    },
    hit,
    scale: () => ({ top, decades: DECADES, mode }),
    nodePosition: (k, j) => ({ ...nodes[k][j], size: S }),
    boxes,
  };
}
