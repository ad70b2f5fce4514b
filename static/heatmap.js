// Draws the output plane: the decision boundary (or regression surface) as an ImageData grid scaled
// by CSS, discretised on request, with training points (and test points on a switch) on top.
// Reads heatmaps.output, heatmaps.ranges; state.points. Emits "plane-click" {x1, x2, remove}.

import { CLASS_COLORS, INK, POINT_NEGATIVE, POINT_POSITIVE, divergingTable } from "./colors.js";
import { fitCanvas } from "./util.js";

const emit = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));

export function createHeatmap(canvas, opts) {
  const overlay = opts.overlay;
  const table = divergingTable();
  const bctx = canvas.getContext("2d");
  let pctx = null;
  let size = 240;
  let extent = [-6, 6];
  let points = null;
  let last = null;
  let showTest = false;
  let discrete = false;

  function drawGrid(hm) {
    const n = hm.resolution;
    if (canvas.width !== n) canvas.width = canvas.height = n;
    const img = new ImageData(n, n);
    const out = hm.output;
    const d = img.data;
    for (let p = 0; p < n * n; p++) {
      if (out.length > 1) {          // softmax classes: the most likely class, paler when unsure
        let best = 0;
        for (let c = 1; c < out.length; c++) if (out[c][p] > out[best][p]) best = c;
        const rgb = hex(CLASS_COLORS[best]);
        const t = discrete ? 1 : out[best][p] / 255;
        for (let c = 0; c < 3; c++) d[p * 4 + c] = 255 + (rgb[c] - 255) * t * 0.75;
        d[p * 4 + 3] = 255;
      } else {
        let v = out[0][p];
        if (discrete) v = v >= 128 ? 255 : 0;
        d.set(table.subarray(v * 4, v * 4 + 4), p * 4);
      }
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
    if (opts.classes() === 3) return CLASS_COLORS[Math.round(label)] || INK;
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

function hex(s) {
  return [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));
}
