// Draws a line chart of several series over steps, linear or log y, with a light min–max band
// behind a series that has one (the loss chart, the gradient-size-per-layer chart). Reads whatever
// series main.js hands it (losses, metrics, grad_norms collected over frames). Emits no events.

import { INK } from "./colors.js";
import { PROJECTOR_SCALE, fitCanvas, fmt } from "./util.js";

export function createChart(canvas, opts = {}) {
  let ctx = null;
  let width = 0;
  let height = 0;
  let log = !!opts.log;
  let z = 1;                 // projector: bigger type and lines
  let pad = { l: 44, r: 8, t: 6, b: 14 };
  let steps = null;          // {from, to}: the steps the last drawing spans (its label says `to`)

  function resize() {
    width = Math.max(120, canvas.parentElement.getBoundingClientRect().width - 4);
    height = typeof opts.height === "function" ? opts.height() : opts.height || 90;
    ctx = fitCanvas(canvas, width, height);
  }

  /** Fill each unbroken run of a series' [lo, hi] range, merged per pixel column so that a
   * one-point spike among thousands still shows; a point with neither end finite breaks it. */
  function band(s, X, Y, T) {
    ctx.fillStyle = s.band;
    const runs = [[]];
    for (let i = 0; i < s.xs.length; i++) {
      let l = T(s.lo[i]), h = T(s.hi[i]);
      if (!Number.isFinite(l)) l = h;       // log of a zero minimum: keep the top
      if (!Number.isFinite(h)) h = l;
      const run = runs[runs.length - 1];
      if (!Number.isFinite(l)) { if (run.length) runs.push([]); continue; }
      const c = Math.round(X(s.xs[i]));
      const end = run[run.length - 1];
      if (end && end.c === c) { end.l = Math.min(end.l, l); end.h = Math.max(end.h, h); }
      else run.push({ c, l, h });
    }
    ctx.strokeStyle = s.band;         // the outline, 1px: a lone point's range still shows
    ctx.lineWidth = 1;
    for (const run of runs) {
      if (!run.length) continue;
      ctx.beginPath();
      run.forEach((p, k) => (k ? ctx.lineTo(p.c, Y(p.h)) : ctx.moveTo(p.c, Y(p.h))));
      for (let k = run.length - 1; k >= 0; k--) ctx.lineTo(run[k].c, Y(run[k].l));
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }
  }

  /** series: [{xs, ys, color, label, width, lo, hi, band}] with xs = step numbers; lo and hi
   * (with band, a fill colour) give each point's range, drawn behind every line. */
  function draw(series) {
    if (!ctx) resize();
    ctx.clearRect(0, 0, width, height);
    const T = (v) => (log ? Math.log10(v) : v);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of series) {
      for (const ys of s.band ? [s.ys, s.lo, s.hi] : [s.ys]) {
        for (let i = 0; i < ys.length; i++) {
          const y = T(ys[i]);
          if (!Number.isFinite(y)) continue;
          x0 = Math.min(x0, s.xs[i]); x1 = Math.max(x1, s.xs[i]);
          y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
      }
    }
    if (!Number.isFinite(x0)) return;
    if (!log) y0 = Math.min(0, y0);
    if (log) { y0 = Math.floor(y0); y1 = Math.max(y0 + 1, Math.ceil(y1)); }
    if (y1 === y0) y1 = y0 + 1;
    if (x1 === x0) x0 = x1 - 1;   // one point: at the right edge, so the label is its own step
    steps = { from: x0, to: x1 };
    const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
    const Y = (y) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
    ctx.strokeStyle = "#bbb";
    ctx.lineWidth = 1;
    ctx.strokeRect(pad.l, pad.t, width - pad.l - pad.r, height - pad.t - pad.b);
    ctx.fillStyle = INK;
    ctx.font = `${z > 1 ? "600 " : ""}${10 * z}px system-ui, sans-serif`;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.fillText(log ? `1e${y1}` : fmt(y1), pad.l - 3, pad.t + 4);
    ctx.fillText(log ? `1e${y0}` : fmt(y0), pad.l - 3, height - pad.b - 2);
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText(`step ${x1}`, width - 70 * z, height - pad.b + 2);
    for (const s of series) if (s.band) band(s, X, Y, T);
    let lx = pad.l + 4;
    for (const s of series) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = (s.width || 1.5) * (z > 1 ? 2 : 1);
      ctx.beginPath();
      let pen = false;
      const every = Math.max(1, Math.floor(s.ys.length / (width * 2)));
      for (let i = 0; i < s.ys.length; i += every) {
        const y = T(s.ys[i]);
        if (!Number.isFinite(y)) { pen = false; continue; }
        if (pen) ctx.lineTo(X(s.xs[i]), Y(y)); else ctx.moveTo(X(s.xs[i]), Y(y));
        pen = true;
      }
      ctx.stroke();
      if (s.label) {
        ctx.fillStyle = s.color;
        ctx.fillText(s.label, lx, pad.t + 2);
        lx += ctx.measureText(s.label).width + 8;
      }
    }
  }

  /** {log, big}: log y scale; projector scale. Takes effect at the next resize / draw. */
  function setOptions(o) {
    if (o.log !== undefined) log = !!o.log;
    if (o.big !== undefined) {
      z = o.big ? PROJECTOR_SCALE : 1;
      pad = { l: 44 * z, r: 8, t: 6 * z, b: 14 * z };
    }
  }

  return { draw, resize, setOptions, steps: () => steps };
}
