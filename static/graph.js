// Draws one neuron's computation graph as micrograd does (HTML boxes over SVG edges, KaTeX labels):
// o_i·w_ij, Σ, +b, the activation and E, each with its value and gradient, and the chain rule to one
// chosen weight. Reads GET /graph answers and SessionState {step, example, phase, layers, record}.
// Emits "graph-closed".

import { g, ix, KATEX, n } from "./inspector.js";
import { layoutGraph, lighting, pathEdges } from "./graph-layout.js";
import { fmt } from "./util.js";
import { emit } from "./events.js";

const d = (top, bottom) => `\\frac{\\partial ${top}}{\\partial ${bottom}}`;
const OP = { input: "", weight: "", bias: "", "×": "×", "Σ": "Σ", "+": "+", E: "" };
const CLASS = { "×": "times", "Σ": "sum", "+": "plus" };
const ACT = { sigmoid: "σ", relu: "ReLU", leaky_relu: "LReLU" };
/** The operation's badge: ×, Σ, + or the activation's (short) name; none on a leaf or E. */
const badge = (op) => (!(op in OP) ? `<span class="gop gact">${ACT[op] || op}</span>` : OP[op] ? `<span class="gop">${OP[op]}</span>` : "");
/** An edge's factor: three figures, so that it fits between two columns. */
const short = (v) => (v === null ? "fused" : v === 1 ? "1" : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(1) : v.toPrecision(3));

/** TeX of each node's short name, from the API's names ("o0", "w0", "p0", "s", "b", "a", "o", "E");
 * the badge and the edges say what each operation is, its title says it in full. */
function names(answer) {
  const k = answer.layer;
  const J = ix(answer.node);
  const one = (name) => {
    const i = Number(name.slice(1));
    if (name === "s" || name === "E") return name;
    if (name.length === 1) return `${name}_{${J}}^{${k}}`;                    // b, a, o of node j
    if (name[0] === "o") return `o_{${ix(i)}}^{${k - 1}}`;
    if (name[0] === "w") return `w_{${ix(i, answer.node)}}^{${k}}`;
    return `p_{${ix(i)}}`;
  };
  return Object.fromEntries(answer.nodes.map((node) => [node.name, one(node.name)]));
}

/** Plain-text titles: what each operation computes. */
function titles(answer) {
  const k = answer.layer;
  const J = answer.node + 1;
  const t = (name) => {
    const i = Number(name.slice(1)) + 1;
    if (name === "s") return "s = Σᵢ pᵢ";
    if (name === "a") return `a${J} = s + b${J} (layer ${k})`;
    if (name === "o") return `o${J} = ${answer.activation}(a${J}) (layer ${k})`;
    if (name === "E") return "E, the loss on the batch";
    if (name[0] === "p") return `p${i} = o${i} · w${i}${J}`;
    return name[0] === "w" ? `w${i}${J}: click for its chain rule` : "";
  };
  return Object.fromEntries(answer.nodes.map((node) => [node.name, t(node.name)]));
}

/** The chain rule along the path to weight i, symbol by symbol, with the factors the server sent. */
function chain(answer, i, L) {
  const k = answer.layer;
  const J = ix(answer.node);
  const I = ix(i);
  const path = answer.paths[i];
  const w = `w_{${ix(i, answer.node)}}^{${k}}`;
  const symbol = {
    dE_do: d("E", `o_{${J}}^{${k}}`), dg: d(`o_{${J}}^{${k}}`, `a_{${J}}^{${k}}`),
    delta: d("E", `a_{${J}}^{${k}}`), da_ds: d(`a_{${J}}^{${k}}`, "s"),
    ds_dp: d("s", `p_{${I}}`), dp_dw: d(`p_{${I}}`, w),
  };
  const factors = path.factors.map((f) => symbol[f.name]).join(" \\cdot ");
  const values = path.factors.map((f) => `(${n(f.value)})`).join(" \\cdot ");
  const upstream = answer.fused
    ? `${d("E", `a_{${J}}^{${k}}`)} = \\delta_{${J}}^{${k}} = (\\hat y_{${J}} - y_{${J}}) / N\\ \\text{(${answer.loss} fused with ${answer.activation})}`
    : `${d("E", `o_{${J}}^{${k}}`)} = ${k === L ? `(\\hat y_{${J}} - y_{${J}}) / N` : `\\textstyle\\sum_m w_{${J}m}^{${k + 1}} \\delta_m^{${k + 1}}`},\\quad ${d(`o_{${J}}^{${k}}`, `a_{${J}}^{${k}}`)} = ${g(answer.activation)}'(a_{${J}}^{${k}})`;
  return [
    [`${d("E", w)} = ${factors}`, ""],
    [`= ${values} = ${n(path.term)}`, "term"],
    [upstream, ""],
    [`${d("E", w)} = \\textstyle\\sum_d \\delta_{${J}}^{${k}}\\, o_{${I}}^{${k - 1}} = ${n(path.batch)}`, "batch"],
  ];
}

export function createGraphPanel(el, { load }) {
  el.innerHTML = `<header class="graph-head"><h3></h3><span class="glegend"><b>data</b> <b class="g">grad</b></span>
    <span class="hint">click a weight w for its chain rule; → and ← light the nodes phase by phase</span><button type="button" class="close" aria-label="close">✕</button></header>
    <div class="graph-area"><svg class="graph-edges" aria-hidden="true"></svg><div class="graph-nodes"></div></div>
    <div class="graph-chain" data-field="chain"></div>`;
  const area = el.querySelector(".graph-area");
  const svg = el.querySelector(".graph-edges");
  const holder = el.querySelector(".graph-nodes");
  let target = null;      // {layer, node}
  let answer = null;
  let weight = 0;         // the weight whose chain rule is shown
  let key = "";           // what the answer was loaded for
  let lit = "";           // the phase last lit
  let asked = 0;          // the latest request; an older answer that arrives later is dropped
  let state = null;

  const tex = (span, src) => (window.katex ? window.katex.render(src, span, KATEX) : (span.textContent = src));

  function draw() {
    const big = document.body.classList.contains("projector");
    const { boxes, width, height } = layoutGraph(answer, area.clientWidth, area.clientHeight, big);
    const label = names(answer);
    const title = titles(answer);
    holder.innerHTML = answer.nodes.map((node) => `<button type="button" class="gnode op-${CLASS[node.op] || node.op}"
      data-name="${node.name}" title="${title[node.name]}"${"wp".includes(node.name[0]) ? ` data-weight="${node.name.slice(1)}"` : ""}>
      <span class="ghead">${badge(node.op)}<span class="glabel"></span></span><span class="gnums">
      <span class="gval"><i>data</i> <b class="num" data-value="${node.value}">${fmt(node.value)}</b></span>
      <span class="ggrad"><i>grad</i> <b class="num" data-value="${node.grad}">${node.grad === null ? "fused" : fmt(node.grad)}</b></span></span></button>`).join("");
    for (const div of holder.children) {
      const b = boxes[div.dataset.name];
      Object.assign(div.style, { left: `${b.x}px`, top: `${b.y}px`, width: `${b.w}px`, height: `${b.h}px` });
      tex(div.querySelector(".glabel"), label[div.dataset.name]);
    }
    holder.style.height = `${height}px`;
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    const onPath = new Set(pathEdges(weight).map(([a, b]) => `${a}>${b}`));
    const factor = Object.fromEntries(answer.paths[weight].factors.map((f) => [f.name, f.value]));
    const edgeLabel = { "w>p": factor.dp_dw, "o>E": factor.dE_do ?? factor.delta, "a>o": factor.dg, "s>a": 1, "p>s": 1 };
    svg.innerHTML = answer.nodes.flatMap((node) => node.inputs.map(({ name }) => {
      const a = boxes[name];
      const b = boxes[node.name];
      const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2, mx = (x1 + x2) / 2;
      const on = onPath.has(`${name}>${node.name}`);
      const v = on ? edgeLabel[`${name[0]}>${node.name[0]}`] : undefined;
      const text = on && v !== undefined ? `<text x="${mx}" y="${(y1 + y2) / 2 - 6}" class="gfactor">${short(v)}</text>` : "";
      return `<path class="gedge${on ? " on-path" : ""}" data-from="${name}" data-to="${node.name}" d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}"/>${text}`;
    })).join("");
    const chainBox = el.querySelector(".graph-chain");
    const lines = chain(answer, weight, state.layers.length - 1);
    chainBox.innerHTML = lines.map(([, field]) => `<p class="eq"${field ? ` data-field="${field}"` : ""}><span class="tex"></span></p>`).join("")
      + `<p class="hint">the last line sums over the batch of ${answer.batch} (regularisation adds its term): the inspector's ∂E/∂w</p>`;
    lines.forEach(([src], q) => tex(chainBox.children[q].querySelector(".tex"), src));
    for (const v of el.querySelectorAll("[data-value]")) v.classList.add("num");
    holder.querySelector(`[data-name="w${weight}"]`)?.classList.add("chosen");
    lit = "";
    light();
  }

  /** Each box shows its value and gradient as far as the walk has got; the phase's ones flash in order. */
  function light() {
    const now = JSON.stringify(state.phase);
    if (now === lit) return;
    lit = now;
    const plan = lighting(answer, state.phase, state.layers.length - 1);
    for (const div of holder.children) {
      const s = plan[div.dataset.name];
      div.classList.toggle("no-value", !s.value);
      div.classList.toggle("no-grad", !s.grad);
      div.classList.remove("flash-forward", "flash-backward");
      if (!s.flash) { delete div.dataset.order; continue; }
      div.dataset.order = s.order;
      div.style.setProperty("--order", s.order);
      void div.offsetWidth;            // restart the animation when the same phase comes back
      div.classList.add(`flash-${s.flash}`);
    }
  }

  async function fetchAndDraw() {
    const ticket = ++asked;
    el.querySelector("h3").textContent = `Node ${target.node + 1} of layer ${target.layer}: its computation`;
    if (!state.record) {
      holder.innerHTML = svg.innerHTML = el.querySelector(".graph-chain").innerHTML = "";
      el.querySelector("h3").textContent += " — take a step to see its numbers";
      answer = null;
      return;
    }
    try {
      const got = await load({ layer: target.layer, node: target.node });
      if (ticket !== asked) return;
      answer = got;
      weight = Math.min(weight, answer.paths.length - 1);
      el.querySelector("h3").textContent = `Node ${target.node + 1} of layer ${target.layer} (${answer.activation}) — example d = ${answer.example} of the batch of ${answer.batch}, step ${answer.step}`;
      draw();
    } catch (err) {
      if (ticket !== asked) return;
      answer = null;
      holder.innerHTML = svg.innerHTML = "";
      el.querySelector(".graph-chain").textContent = err.message;
    }
  }

  function show(next) {
    state = next;
    if (!target || !state) return;
    const now = JSON.stringify([target, state.step, state.example, !!state.record, state.layers]);
    if (now !== key) {
      key = now;
      fetchAndDraw();
    } else if (answer) light();
  }

  function close() {
    target = null;
    key = "";
    el.hidden = true;
    emit("graph-closed");
  }

  el.querySelector(".close").addEventListener("click", close);
  document.addEventListener("keydown", (e) => e.key === "Escape" && !el.hidden && close());
  holder.addEventListener("click", (e) => {
    const box = e.target.closest("[data-weight]");
    if (!box || !answer) return;
    weight = Number(box.dataset.weight);
    draw();
  });
  /** Just below the page's header bar, whose height depends on the window and on projector mode:
   * the transport buttons and the step counter stay in sight while the graph is open. */
  function place() {
    const bar = document.querySelector(".bar");
    el.style.top = `${Math.round(bar ? bar.getBoundingClientRect().bottom + 4 : 8)}px`;
  }
  window.addEventListener("resize", () => !el.hidden && (place(), answer && draw()));

  return {
    /** Open on node {layer, node} of the session whose state is `next`. */
    open(t, next) {
      if (!target || t.layer !== target.layer || t.node !== target.node) weight = 0;
      target = t;
      key = "";
      el.hidden = false;
      place();
      show(next);
    },
    show,
    close,
  };
}
