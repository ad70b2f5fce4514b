// Draws nothing: where each box of a neuron's computation graph sits (static/graph.js draws them),
// and which boxes show their value and gradient at a phase of the step-through, in what order.
// Reads the /graph answer's nodes, forward and backward, and SessionState.phase. Emits no events.

/** Columns left to right: the leaves o_i and w_ij, the products, Σ (with b), +, g, E. */
const COLUMN = { input: 0, weight: 0, "×": 1, "Σ": 2, bias: 2, "+": 3, E: 5 };
const column = (op) => (op in COLUMN ? COLUMN[op] : 4);   // any other op is the activation

/** Boxes {name: {x, y, w, h}} in CSS pixels for a panel of width × height (at least); big: projector. */
export function layoutGraph(answer, width, height, big) {
  // Room between the columns for the chain rule's factor on each edge of the path.
  const box = { w: Math.max(120, Math.min(big ? 175 : 165, width / 6 - 48)), h: big ? 60 : 40 };
  const gap = big ? 10 : 7;
  const byName = Object.fromEntries(answer.nodes.map((n) => [n.name, n]));
  // In forward order — o_1, w_1j, o_2, w_2j … — so that each pair sits beside its product.
  const leaves = answer.forward.map((name) => byName[name]).filter((n) => column(n.op) === 0);
  const tall = Math.max(height, leaves.length * (box.h + gap) + gap);
  const step = tall / Math.max(1, leaves.length);
  const x = (c) => gap + c * ((width - box.w - 2 * gap) / 5);
  const mid = tall / 2 - box.h / 2;
  const boxes = {};
  leaves.forEach((n, r) => { boxes[n.name] = { x: x(0), y: r * step + (step - box.h) / 2, w: box.w, h: box.h }; });
  for (const n of answer.nodes) {
    if (column(n.op) === 0) continue;
    let y = mid;
    if (n.op === "×") {                          // halfway between its o_i and w_ij
      const [a, b] = n.inputs.map((i) => boxes[i.name]);
      y = (a.y + b.y) / 2;
    } else if (n.op === "Σ") y = mid - (box.h + gap) * 0.75;
    else if (n.op === "bias") y = mid + (box.h + gap) * 0.75;
    boxes[n.name] = { x: x(column(n.op)), y, w: box.w, h: box.h };
  }
  return { boxes, width, height: tall };
}

/** The edges along E → o_j → a_j → s → p_i → w_ij: the chain rule's path to weight i. */
export const pathEdges = (i) => [[`w${i}`, `p${i}`], [`p${i}`, "s"], ["s", "a"], ["a", "o"], ["o", "E"]];

/**
 * What each node shows at a phase: {value, grad, flash: "forward"|"backward"|null, order}.
 * No phase: everything. Forward m: values up to layer m, node k's lighting up in forward order at
 * m = k; loss: E; backward m: gradients from m down, ∂E/∂o_j at m = k + 1, the rest in backward
 * order at m = k; update: everything.
 */
export function lighting(answer, phase, L) {
  const k = answer.layer;
  const names = answer.forward;
  const out = Object.fromEntries(names.map((name) => [name, { value: true, grad: true, flash: null, order: 0 }]));
  if (!phase || phase.name === "update") return out;
  const { name: p, layer: m } = phase;
  const walkedBack = p === "backward";
  for (const name of names) {
    const s = out[name];
    s.value = name === "E" ? p !== "forward" : !(p === "forward" && m < k);
    s.grad = walkedBack && (m < k || m === k || name === "E" || (name === "o" && m === k + 1));
  }
  const flash = (list, kind) => list.forEach((name, order) => Object.assign(out[name], { flash: kind, order }));
  if (p === "forward" && m === k) flash(names.filter((n) => n !== "E"), "forward");
  if (p === "loss") flash(["E"], "forward");
  if (walkedBack && m === k + 1) flash(["o"], "backward");
  if (walkedBack && m === k) flash(answer.backward.filter((n) => n !== "E" && (k === L || n !== "o")), "backward");
  return out;
}
