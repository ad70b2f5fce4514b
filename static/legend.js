// Draws the edge colour legend: the log scale's numbers, orange for negative and purple for positive,
// for the quantity the edges show (∂E/∂w, w or Δw). Reads the network view's scale {top, decades,
// mode} (from frame.layers). Emits no events.

import { INK, diverging } from "./colors.js";
import { fitCanvas } from "./util.js";

const NAMES = { gradient: "∂E/∂w", weight: "w", update: "Δw" };

export function createLegend(canvas) {
  let ctx = null;
  const width = 320;
  const height = 30;
  return {
    resize() {
      ctx = fitCanvas(canvas, width, height);
    },
    draw({ top, decades, mode }) {
      if (!ctx) this.resize();
      ctx.clearRect(0, 0, width, height);
      const half = (width - 90) / 2;
      for (let x = 0; x < half * 2; x++) {
        const t = (x - half) / half;        // −1 … 1: −10^top … −10^(top−decades) | … +10^top
        ctx.fillStyle = diverging(t);
        ctx.fillRect(60 + x, 2, 1, 10);
      }
      ctx.fillStyle = INK;
      ctx.font = "10px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      for (let d = 0; d <= decades; d += 2) {
        const label = `1e${top - decades + d}`;
        ctx.fillText(d === 0 ? `<1e${top - decades}` : `+${label}`, 60 + half + (d / decades) * half, 14);
        if (d > 0) ctx.fillText(`−${label}`, 60 + half - (d / decades) * half, 14);
      }
      ctx.textAlign = "left";
      ctx.fillText(`|${NAMES[mode]}|`, 0, 2);
    },
  };
}
