// Draws the edge colour legend: the log scale's numbers, orange for negative and purple for positive,
// for the quantity the edges show (∂E/∂w, w or Δw). Reads the network view's scale {top, decades,
// mode} (from frame.layers). Emits no events.

import { INK, diverging } from "./colors.js";
import { PROJECTOR_SCALE, fitCanvas } from "./util.js";

const NAMES = { gradient: "∂E/∂w", weight: "w", update: "Δw" };

export function createLegend(canvas) {
  let ctx = null;
  let z = 1;                 // projector: PROJECTOR_SCALE
  let width = 320;
  let height = 30;
  let drawn = "";            // the scale last drawn
  return {
    setOptions({ big }) {
      z = big ? PROJECTOR_SCALE : 1;
      [width, height] = [320 * z, 30 * z];
      ctx = null;
    },
    resize() {
      const room = canvas.parentElement.getBoundingClientRect().width - 4;   // never wider than its box
      width = room > 0 ? Math.max(200, Math.min(320 * z, room)) : 320 * z;
      ctx = fitCanvas(canvas, width, height);
      drawn = "";
    },
    draw({ top, decades, mode }) {
      if (!ctx) this.resize();
      const key = `${top} ${decades} ${mode} ${width} ${z}`;
      if (key === drawn && canvas.width) return;     // the scale moves rarely: draw it when it does
      drawn = key;
      ctx.clearRect(0, 0, width, height);
      const half = (width - 90 * z) / 2;
      for (let x = 0; x < half * 2; x++) {
        const t = (x - half) / half;        // −1 … 1: −10^top … −10^(top−decades) | … +10^top
        ctx.fillStyle = diverging(t);
        ctx.fillRect(60 * z + x, 2, 1, 10 * z);
      }
      ctx.fillStyle = INK;
      ctx.font = `${z > 1 ? "600 " : ""}${10 * z}px system-ui, sans-serif`;
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      for (let d = 0; d <= decades; d += 2) {
        const label = `1e${top - decades + d}`;
        const mid = 60 * z + half;
        ctx.fillText(d === 0 ? `<1e${top - decades}` : `+${label}`, mid + (d / decades) * half, 14 * z);
        if (d > 0) ctx.fillText(`−${label}`, mid - (d / decades) * half, 14 * z);
      }
      ctx.textAlign = "left";
      ctx.fillText(`|${NAMES[mode]}|`, 0, 2);
    },
  };
}
