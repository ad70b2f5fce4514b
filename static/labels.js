// Draws nothing: places the network view's number labels where there is room — beside, below,
// above or left of their node, never over a node, another label or the canvas edge — and says
// which did not fit (the view shows those on hover). Reads no frame fields. Emits no events.

/** Three significant digits: 0.123, -4.56, 123, 8.53e-5 — short enough for the back row. */
/** What the node labels' o and δ are: the frame's chosen example, else the batch mean (app/worker/frames.py). */
export const labelsShow = (frame) => (frame && Number.isInteger(frame.example) ? `example d = ${frame.example}` : "batch mean");

export function fmt3(v) {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a < 1e-2 || a >= 1e3) return v.toExponential(2).replace("e+", "e");
  return v.toPrecision(3);
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (a, r) => a.x >= r.x && a.y >= r.y && a.x + a.w <= r.x + r.w && a.y + a.h <= r.y + r.h;

/**
 * Place each group of lines (a node's "o …" and "δ …") next to its anchor box.
 * groups: [{key, anchor: {x, y, w, h}, lines: [text, …], under}] (under: try below the node first);
 * fixed: boxes nothing may cover (nodes, bias circles, input names); bounds: {x, y, w, h};
 * measure(text) → width; lh: line height;
 * gap: room between a node and its label. A group that fits nowhere loses its last line and tries
 * again. Returns {placed: [{key, line, text, x, y, w, h}], dropped: [{key, line, text}]}.
 */
export function placeLabels(groups, { fixed, bounds, measure, lh, gap }) {
  const taken = fixed.map((b) => ({ x: b.x - 1, y: b.y - 1, w: b.w + 2, h: b.h + 2 }));
  const placed = [];
  const dropped = [];
  for (const g of groups) {
    let lines = g.lines.slice();
    while (lines.length) {
      const widths = lines.map(measure);
      const w = Math.max(...widths);
      const h = lines.length * lh;
      const box = candidates(g.anchor, w, h, gap, g.under).find((c) => inside(c, bounds) && !taken.some((t) => overlaps(c, t)));
      if (box) {
        taken.push(box);
        lines.forEach((text, line) => placed.push({ key: g.key, line, text, x: box.x, y: box.y + line * lh, w: widths[line], h: lh }));
        break;
      }
      dropped.push({ key: g.key, line: lines.length - 1, text: lines[lines.length - 1] });
      lines = lines.slice(0, -1);
    }
  }
  return { placed, dropped };
}

/** Right of the node (centred, top- or bottom-aligned), below, above, then left: in reading order;
 * below first when the layout left room there (`under`). */
function candidates(a, w, h, gap, under = false) {
  const cx = a.x + (a.w - w) / 2;
  const all = [
    { x: a.x + a.w + gap, y: a.y + (a.h - h) / 2, w, h },
    { x: a.x + a.w + gap, y: a.y, w, h },
    { x: a.x + a.w + gap, y: a.y + a.h - h, w, h },
    { x: cx, y: a.y + a.h + gap, w, h },
    { x: cx, y: a.y - gap - h, w, h },
    { x: a.x + a.w + gap, y: a.y + a.h + gap, w, h },
    { x: a.x - gap - w, y: a.y + (a.h - h) / 2, w, h },
  ];
  return under ? [all[3], ...all.slice(0, 3), ...all.slice(4)] : all;
}
