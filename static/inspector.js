// Draws (as HTML, equations typeset by the vendored KaTeX) the numbers of one edge, one node, or the
// current step-through phase, each equation filled in with the server's float64 values. Reads
// SessionState.record (targets too), .network, .phase, .example, .config, .problem; the losses' E and
// the optimizers' update rules from the engine's registry (registry.js). Emits "edit-parameter" and
// "show-computation" {layer, node} (a node's button; static/graph.js draws it).

import { emit } from "./events.js";
import { REGISTRY } from "./registry.js";
import { fmt } from "./util.js";

/** A live number: the server's value in data-value (the page's tests read it), shown to 4 figures. */
export const n = (v, signed = false) => `\\htmlData{value=${v}}{\\texttt{${fmt(v, signed)}}}`;
// plain parentheses: a \left( … \right) group never breaks, and a long vector must wrap on a projector
const vec = (arr) => `(${Array.from(arr, (v) => n(v)).join(",\\allowbreak ")})`;
/** Indices as on the page: nodes counted from 1, like x₁ and x₂ (the API's lists count from 0). */
export const ix = (...is) => (is.some((i) => i >= 9) ? is.map((i) => i + 1).join(",") : is.map((i) => i + 1).join(""));
export const g = (name) => (name === "tanh" ? "\\tanh" : `\\operatorname{${name.replace("_", "\\_")}}`);
// ∂E/∂x on one line: a \frac's parts are set a script size smaller, and their scripts two (too small
// for a projector's back row)
const dE = (x) => `\\partial E / \\partial ${x}`;

/** A loss's E and an optimizer's Δθ, as the engine's registry writes them (app/routes/catalog.py). */
const lossEquation = (name) => (REGISTRY.losses[name] || {}).equation || `\\text{${name}}`;
const updateEquation = (name) => (REGISTRY.optimizers[name] || {}).equation || `\\text{${name}}`;
export const KATEX = { throwOnError: false, trust: (c) => c.command === "\\htmlData",
  strict: (code) => (code === "htmlExtension" ? "ignore" : "warn") };

/** o^{k} of example d: layer 0 is the input row. */
const outputs = (rec, k, d) => (k === 0 ? rec.inputs[d] : rec.layers[k - 1].o[d]);

export function createInspector(el, opts = {}) {
  const readonly = !!opts.readonly;
  let current = null;
  let shown = "";
  let tex = [];          // the equations of the page being built; placeholders name them by index
  // → is the teacher's key (controls.js), and no key of a touch screen (page.css hides .key-hint)
  const idle = `<p class="hint">Pick an edge or a node to see its numbers${readonly ? "" : `<span class="key-hint">; → walks one step phase by phase</span>`}.</p>`;
  const eq = (s, field = "") => `<p class="eq"${field ? ` data-field="${field}"` : ""}>${m(s)}</p>`;
  const m = (s) => `<span class="tex" data-tex="${tex.push(s) - 1}"></span>`;

  function row(state) {
    const N = state.record.inputs.length;
    const d = state.example !== null && state.example >= 0 && state.example < N ? state.example : 0;
    // the "example" menu is a control: neither a follower nor the projector (page.css) shows it
    const pick = state.example === null && !readonly ? `<span class="example-hint"> (pick one with “example”)</span>` : "";
    return { d, N, note: `example d = ${d}<span class="of-batch"> of the batch of ${N}</span>${pick}` };
  }

  function edge(state, t, check) {
    const { layer: k, i, j } = t;
    const isW = t.kind === "W";
    const name = isW ? `w_{${ix(i, j)}}^{${k}}` : `b_{${ix(j)}}^{${k}}`;
    const w = isW ? state.network.weights[k - 1][i][j] : state.network.biases[k - 1][j];
    const input = readonly ? m(n(w))
      : `<input id="edit-value" type="number" step="any" value="${w}" data-kind="${t.kind}">`;
    let html = `<h3>Edge ${m(name)}: ${isW ? `node ${i + 1} of layer ${k - 1} → node ${j + 1} of layer ${k}` : `bias of node ${j + 1}, layer ${k}`}</h3>
      <p>${m(`${name} =`)} ${input} (now)</p>`;
    const rec = state.record;
    if (!rec) return `${html}<p class="hint">Take a step to see ∂E/∂w and Δw.</p>`;
    const { d, note } = row(state);
    const grad = isW ? rec.gradients.weights[k - 1][i][j] : rec.gradients.biases[k - 1][j];
    const u = isW ? rec.updates.weights[k - 1][i][j] : rec.updates.biases[k - 1][j];
    const delta = rec.layers[k - 1].delta[d][j];
    const o = isW ? outputs(rec, k - 1, d)[i] : 1;
    const oName = isW ? `o_{${ix(i)}}^{${k - 1}}` : "1";
    html += `${eq(`${dE(name)} = \\sum_d \\delta_{${ix(j)}}^{${k}}\\, ${oName} = ${n(grad)}`)}
      <p class="hint aside">(the sum over the batch; regularisation adds its term)</p>
      <p class="eq">term of ${note}: ${m(`\\delta_{${ix(j)}}^{${k}} = ${n(delta)},\\quad ${oName} = ${n(o)}`)}</p>
      ${eq(`\\Delta ${name} = ${n(u, true)}`)}
      <p class="hint">${state.config.optimizer.name}, lr ${m(n(state.config.optimizer.learning_rate))}; before the step
      ${m(`${name} = ${n(isW ? rec.weights_before?.[k - 1][i][j] : rec.biases_before?.[k - 1][j])}`)}</p>`;
    if (check) {
      html += `<p class="eq check">gradient check: analytic ${m(n(check.analytic))}, numeric ${m(n(check.numeric))},
        relative error ${m(n(check.relative_error))}</p>`;
    }
    return html;
  }

  function node(state, t) {
    const { layer: k, j } = t;
    if (k === 0) return `<h3>Input ${state.feature_labels[j]}</h3><p>${m(`o_{${ix(j)}}^{0}`)} is the feature itself.</p>`;
    const rec = state.record;
    const act = state.activations[k - 1];
    let html = `<h3>Node ${j + 1} of layer ${k} (${act})</h3>`;
    if (!rec) return `${html}<p class="hint">Take a step to see a, o and δ.</p>`;
    const { d, note } = row(state);
    const L = state.layers.length - 1;
    const lay = rec.layers[k - 1];
    const J = ix(j);
    html += `<p class="hint">${note} <button type="button" class="show-graph" data-graph-layer="${k}" data-graph-node="${j}">show its computation</button></p>${eq(`a_{${J}}^{${k}} = ${n(lay.a[d][j])},\\quad o_{${J}}^{${k}} = ${g(act)}(a_{${J}}^{${k}}) = ${n(lay.o[d][j])},\\quad \\delta_{${J}}^{${k}} = ${n(lay.delta[d][j])}`)}`;
    if (k === L) {
      html += `<p class="eq">${m(`\\delta_{${J}}^{${L}} = ${dE(`a_{${J}}^{${L}}`)}`)}: the loss (${state.config.loss}) differentiated through ${act}, over N</p>`;
    } else {
      const wb = rec.weights_before || state.network.weights;
      const terms = wb[k][j].map((w, q) => `${n(w)} \\cdot ${n(rec.layers[k].delta[d][q])}`).join(" +\\allowbreak ");
      html += eq(`\\delta_{${J}}^{${k}} = ${g(act)}'(a_{${J}}^{${k}}) \\sum_m w_{${J}m}^{${k + 1}} \\delta_m^{${k + 1}}
        = ${g(act)}'(${n(lay.a[d][j])}) \\cdot \\left(${terms}\\right) = ${n(lay.delta[d][j])}`);
    }
    return html;
  }

  function phase(state) {
    const p = state.phase;
    const rec = state.record;
    if (!p || !rec) return "";
    const { d, N, note } = row(state);
    const k = p.layer;
    const L = state.layers.length - 1;
    // the update is the batch's: no number of it is one example's
    const which = p.name === "update" ? "" : `<p class="hint">${note}</p>`;
    const head = `<h3>Phase ${p.index + 1} of ${p.count}: ${p.name}${k ? ` layer ${k}` : ""}</h3>${which}`;
    if (p.name === "forward") {
      const lay = rec.layers[k - 1];
      return `${head}${eq(`a^{${k}} = o^{${k - 1}} W^{${k}} + b^{${k}}`)}
        ${eq(`o^{${k - 1}} = ${vec(outputs(rec, k - 1, d))},\\quad b^{${k}} = ${vec((rec.biases_before || state.network.biases)[k - 1])}`)}
        ${eq(`a^{${k}} = ${vec(lay.a[d])}`, "a")}
        ${eq(`o^{${k}} = ${g(state.activations[k - 1])}(a^{${k}}) = ${vec(lay.o[d])}`, "o")}`;
    }
    if (p.name === "loss") {
      const y = rec.targets ? rec.targets[d] : null;
      return `${head}${eq(`\\hat y = o^{${L}} = ${vec(rec.layers[L - 1].o[d])}`, "yhat")}
        ${eq(`y = ${y ? vec(y) : "\\text{—}"}`, "y")}
        ${eq(`E = ${lossEquation(state.config.loss)} = ${n(rec.loss)}`, "loss")}
        <p class="hint">over the batch of ${N}</p>`;
    }
    if (p.name === "backward") {
      const lay = rec.layers[k - 1];
      const rule = k === L ? `\\delta^{${L}}` : `\\delta^{${k}} = ${g(state.activations[k - 1])}'(a^{${k}}) \\odot \\delta^{${k + 1}} (W^{${k + 1}})^{\\mathsf T}`;
      const from = k === L ? outputDelta(state, d, N)
        : eq(`\\delta^{${k + 1}} = ${vec(rec.layers[k].delta[d])},\\quad a^{${k}} = ${vec(lay.a[d])}`);
      return `${head}${from}${eq(`${rule} = ${vec(lay.delta[d])}`, "delta")}
        <p class="eq">${m(`${dE(`W^{${k}}`)} = (o^{${k - 1}})^{\\mathsf T} \\delta^{${k}}`)}: first row ${m(vec(rec.gradients.weights[k - 1][0]))}</p>`;
    }
    const rows = rec.updates.weights.map((U, q) => `<p class="eq">${m(`\\Delta W^{${q + 1}}`)} first row ${m(vec(U[0]))}</p>`).join("");
    const opt = state.config.optimizer;
    return `${head}${eq(`W \\leftarrow W + \\Delta W,\\quad g = ${dE("W")}`)}${eq(updateEquation(opt.name), "rule")}
      <p class="hint">${opt.name}, α = lr ${m(n(opt.learning_rate))}</p>${rows}`;
  }

  /** δ^L of example d with its factors, all from the record: the fused (ŷ−y)/N for bce and
   * softmax_ce, else (ŷ−y)·g′(a^L)/N (g′ named, not evaluated: the view never recomputes). */
  function outputDelta(state, d, N) {
    const rec = state.record;
    const L = state.layers.length - 1;
    const out = rec.layers[L - 1];
    const y = rec.targets ? rec.targets[d] : [];
    const act = state.activations[L - 1];
    const fused = state.problem.fused;
    const rows = Array.from(out.delta[d], (delta, j) => {
      const diff = `(${n(out.o[d][j])} - ${n(y[j])})`;
      const terms = fused ? `${diff} / ${N}` : `${diff} \\cdot ${g(act)}'(${n(out.a[d][j])}) / ${N}`;
      return `<li>${m(`\\delta_{${ix(j)}}^{${L}} = ${terms} = ${n(delta)}`)}</li>`;
    }).join("");
    const rule = fused ? `\\delta^{${L}} = (\\hat y - y) / N` : `\\delta^{${L}} = (\\hat y - y) \\cdot ${g(act)}'(a^{${L}}) / N`;
    return `${eq(`${rule},\\quad N = ${N}`)}${fused ? `<p class="hint">(${state.config.loss} fused with ${act})</p>` : ""}
      <ul class="eq terms" data-field="delta-terms">${rows}</ul>`;
  }

  /** Put the HTML in, then typeset each equation into its placeholder (DOM nodes, no inline styles). */
  function typeset(html) {
    el.innerHTML = html;
    for (const span of el.querySelectorAll(".tex")) {
      const src = tex[Number(span.dataset.tex)];
      if (window.katex) window.katex.render(src, span, KATEX);
      else span.textContent = src;
    }
    for (const v of el.querySelectorAll("[data-value]")) v.classList.add("num");
  }

  el.addEventListener("click", (e) => {
    const b = e.target.closest(".show-graph");
    if (b) emit("show-computation", { layer: Number(b.dataset.graphLayer), node: Number(b.dataset.graphNode) });
  });

  el.addEventListener("change", (e) => {
    if (e.target.id !== "edit-value" || !current) return;
    const t = current;
    const value = Number(e.target.value);
    emit("edit-parameter", { kind: t.kind, layer: t.layer, i: t.kind === "W" ? t.i : t.j, j: t.kind === "W" ? t.j : null, value });
  });

  return {
    /** Typesets again only when what it shows changed (a phase, a selection, a step's numbers). */
    draw(state, target, check) {
      current = target;
      tex = [];
      const parts = [];
      if (state.phase) parts.push(`<div class="phase">${phase(state)}</div>`);
      if (target) parts.push(`<div class="target">${target.kind === "node" ? node(state, target) : edge(state, target, check)}</div>`);
      // the projector gives the inspector its whole column while it holds both (page.css)
      el.classList.toggle("phase-and-target", parts.length === 2);
      const html = parts.join("") || idle;
      const key = html + tex.join("\n");
      if (key === shown) return;
      shown = key;
      typeset(html);
    },
  };
}
