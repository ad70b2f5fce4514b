// Draws hover readouts: a hovered node's heatmap enlarged beside it, a hovered edge's numbers.
// Reads the network view's "hover" {target, thumb, edge: {w, grad, update}, x, y}.
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
  document.addEventListener("hover", ({ detail: { target, thumb, edge, x, y } }) => {
    canvas.hidden = !thumb;
    tip.hidden = !edge;
    if (edge) {
      tip.textContent = `${NAMES[target.kind](target)} = ${fmt(edge.w)}   ∂E/∂w = ${fmt(edge.grad)}   Δw = ${fmt(edge.update)}`
        + "   (click for the chain rule, or to edit)";
      tip.style.left = `${x + 12}px`;
      tip.style.top = `${y + 12}px`;
    }
    if (!thumb) return;
    const c = canvas.getContext("2d");
    c.imageSmoothingEnabled = false;
    c.drawImage(thumb, 0, 0, canvas.width, canvas.height);
    canvas.style.left = `${x}px`;
    canvas.style.top = `${y}px`;
    canvas.dataset.node = `${target.layer},${target.j}`;
  });
}
