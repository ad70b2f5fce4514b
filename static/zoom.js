// Draws hover readouts: a hovered node's heatmap enlarged beside it with its o and δ, a hovered
// edge's numbers. Reads the network view's "hover" {target, thumb: {canvas, sx, size}, edge: {w, grad,
// update}, numbers, x, y}.
// Emits no events.
import { fmt } from "./util.js";

const SUB = "₀₁₂₃₄₅₆₇₈₉";
const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const digits = (n, set) => String(n).replace(/\d/g, (d) => set[d]);
const NAMES = {   // 1-based, as on the page: w_ij^k from node i of layer k−1 to node j of layer k
  W: (t) => `w${digits(t.i + 1, SUB)}${digits(t.j + 1, SUB)}${digits(t.layer, SUP)}`,
  b: (t) => `b${digits(t.j + 1, SUB)}${digits(t.layer, SUP)}`,
};

export function createZoom(canvas, tip) {
  document.addEventListener("hover", ({ detail: { target, thumb, edge, numbers, x, y } }) => {
    canvas.hidden = !thumb;
    tip.hidden = !edge && !numbers;
    if (numbers) {           // a node's o and δ in full: its label may not have fitted beside it
      tip.textContent = numbers;
      tip.style.left = `${x}px`;
      tip.style.top = `${y + (thumb ? canvas.offsetHeight + 4 : 0)}px`;
    }
    if (edge) {
      tip.textContent = `${NAMES[target.kind](target)} = ${fmt(edge.w)}   ∂E/∂w = ${fmt(edge.grad)}   Δw = ${fmt(edge.update)}`
        + "   (click for the chain rule, or to edit)";
      tip.style.left = `${x + 12}px`;
      tip.style.top = `${y + 12}px`;
    }
    if (!thumb) return;
    const c = canvas.getContext("2d");
    c.imageSmoothingEnabled = false;
    c.drawImage(thumb.canvas, thumb.sx, 0, thumb.size, thumb.size, 0, 0, canvas.width, canvas.height);
    canvas.style.left = `${x}px`;
    canvas.style.top = `${y}px`;
    canvas.dataset.node = `${target.layer},${target.j}`;
  });
}
