// Draws nothing: the palette. Diverging orange–purple (ColorBrewer PuOr, colour-blind safe):
// reads no frame fields; the sign of a value picks the hue, its size the strength.
// Emits no events. Classes use the server's colours (app/routes/catalog.py): PuOr's orange and purple
// for −1 and +1 (classes 0 and 1), teal for class 2.

import { REGISTRY } from "./registry.js";

/** "#rrggbb" → [r, g, b]. */
export const rgb = (s) => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));

export const PALETTE_NAME = "PuOr (ColorBrewer, colour-blind safe)";
export const CLASS_COLORS = REGISTRY.class_colors;
export const NEGATIVE = rgb(CLASS_COLORS[0]);     // PuOr orange
export const POSITIVE = rgb(CLASS_COLORS[1]);     // PuOr purple
export const NEUTRAL = [247, 247, 247];   // #f7f7f7 PuOr centre
export const POINT_NEGATIVE = "#b35806";  // darker PuOr ends: points stay visible on their own region
export const POINT_POSITIVE = "#3f007d";
export const INK = "#222";
export const ACTIVE = "rgba(255, 196, 0, 0.22)";

const mix = (a, b, t) => [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * t));

/** rgb() for a signed strength t in [−1, 1]: orange below 0, purple above, pale at 0. */
export function diverging(t) {
  const s = Math.max(-1, Math.min(1, t));
  const [r, g, b] = mix(NEUTRAL, s < 0 ? NEGATIVE : POSITIVE, Math.abs(s));
  return `rgb(${r},${g},${b})`;
}

/** A 256×4 RGBA table for byte-quantised grids: byte 0 = lo (orange), 255 = hi (purple). */
export function divergingTable() {
  const table = new Uint8ClampedArray(256 * 4);
  for (let v = 0; v < 256; v++) {
    const s = (v / 255) * 2 - 1;
    const [r, g, b] = mix(NEUTRAL, s < 0 ? NEGATIVE : POSITIVE, Math.abs(s));
    table.set([r, g, b, 255], v * 4);
  }
  return table;
}

/**
 * Log-scale strength of |v| on a scale of `decades` decades topped at 10^top:
 * 0 at or below 10^(top−decades), 1 at 10^top. Returns a signed value for diverging().
 */
export function logStrength(v, top, decades) {
  if (!Number.isFinite(v) || v === 0) return 0;
  const t = (Math.log10(Math.abs(v)) - (top - decades)) / decades;
  return Math.sign(v) * Math.max(0, Math.min(1, t));
}

/** The decade that tops a log scale for these values: ceil(log10(max |v|)). */
export function topDecade(values, fallback = 0) {
  let m = 0;
  for (const arr of values) for (const v of arr) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m > 0 ? Math.ceil(Math.log10(m)) : fallback;
}

/** Okabe–Ito, colour-blind safe, for one line per layer in the gradient-size chart. */
export const SERIES = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#999999", "#f0e442"];
