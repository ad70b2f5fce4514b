// Draws the output plane: the decision boundary (or regression surface) as an ImageData grid scaled
// by CSS, discretised on request, with training points (and test points on a switch) on top.
// Reads heatmaps.output, heatmaps.ranges; state.points. Emits "plane-click" {x1, x2, remove}.

import { CLASS_COLORS, INK, POINT_NEGATIVE, POINT_POSITIVE, divergingTable, rgb } from "./colors.js";
import { emit } from "./events.js";
import { REGISTRY } from "./registry.js";
import { fitCanvas } from "./util.js";

export function createHeatmap(canvas, opts) {
  const overlay = opts.overlay;
  const table = new Uint32Array(divergingTable().buffer);
  const classes = CLASS_COLORS.map(classTable);
  const bctx = canvas.getContext("2d");
  let img = null;
  let px = null;
  let pctx = null;
  let size = 240;
  let extent = [-REGISTRY.plane, REGISTRY.plane];
  let points = null;
  let last = null;
  let showTest = false;
  let discrete = false;

  /** The grid into an ImageData kept between messages (one 32-bit write a pixel), put once. */
  function drawGrid(hm) {
    const n = hm.resolution;
    if (canvas.width !== n || !img) {
      canvas.width = canvas.height = n;
      img = bctx.createImageData(n, n);
      px = new Uint32Array(img.data.buffer);
    }
    const out = hm.output;
    if (out.length > 1) {
      for (let p = 0; p < n * n; p++) {      // softmax classes: the most likely class, paler when unsure
        let best = 0;
        for (let c = 1; c < out.length; c++) if (out[c][p] > out[best][p]) best = c;
        px[p] = classes[best][discrete ? 255 : out[best][p]];
      }
    } else {
      const o = out[0];
      for (let p = 0; p < n * n; p++) px[p] = table[discrete ? (o[p] >= 128 ? 255 : 0) : o[p]];
    }
    bctx.putImageData(img, 0, 0);
  }

  function drawPoints() {
    if (!pctx) return;
    pctx.clearRect(0, 0, size, size);
    if (!points) return;
    const sets = showTest ? [[points.train, false], [points.test, true]] : [[points.train, false]];
    for (const [set, isTest] of sets) {
      for (let i = 0; i < set.x.length; i++) {
        const [x1, x2] = set.x[i];
        const [px, py] = toPixel(x1, x2);
        pctx.beginPath();
        pctx.arc(px, py, 3, 0, 2 * Math.PI);
        pctx.fillStyle = pointColor(set.y[i]);
        pctx.fill();
        pctx.lineWidth = isTest ? 1.6 : 0.8;
        pctx.strokeStyle = isTest ? INK : "#fff";
        pctx.stroke();
      }
    }
  }

  function pointColor(y) {
    const label = Array.isArray(y) ? y[0] : y;
    if (opts.classes() > 2) return CLASS_COLORS[Math.round(label)] || INK;
    return label < 0 ? POINT_NEGATIVE : POINT_POSITIVE;
  }

  const toPixel = (x1, x2) => [
    ((x1 - extent[0]) / (extent[1] - extent[0])) * size,
    ((extent[1] - x2) / (extent[1] - extent[0])) * size,
  ];

  overlay.addEventListener("click", (e) => {
    const r = overlay.getBoundingClientRect();
    const x1 = extent[0] + ((e.clientX - r.left) / r.width) * (extent[1] - extent[0]);
    const x2 = extent[1] - ((e.clientY - r.top) / r.height) * (extent[1] - extent[0]);
    emit("plane-click", { x1, x2, remove: e.shiftKey, radius: (0.3 * (extent[1] - extent[0])) / 12 });
  });

  return {
    draw(hm) {
      last = hm;
      extent = hm.extent;
      drawGrid(hm);
    },
    setPoints(p, ext) {
      points = p;
      if (ext) extent = ext;
      drawPoints();
    },
    setOptions(o) {
      showTest = !!o.showTest;
      discrete = !!o.discretize;
      if (last) drawGrid(last);
      drawPoints();
    },
    resize() {
      size = Math.max(120, Math.min(overlay.parentElement.getBoundingClientRect().width, opts.maxSize()));
      canvas.style.width = canvas.style.height = `${size}px`;
      overlay.parentElement.style.height = `${size}px`;
      pctx = fitCanvas(overlay, size, size);
      drawPoints();
    },
  };
}

/** A class colour's 256 shades as RGBA pixels: white at 0, 75 % of the colour at 255. */
function classTable(color) {
  const shade = rgb(color);
  const bytes = new Uint8ClampedArray(256 * 4);
  for (let v = 0; v < 256; v++) {
    for (let c = 0; c < 3; c++) bytes[v * 4 + c] = 255 + (shade[c] - 255) * (v / 255) * 0.75;
    bytes[v * 4 + 3] = 255;
  }
  return new Uint32Array(bytes.buffer);
}
