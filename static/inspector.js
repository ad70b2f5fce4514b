// Draws (as HTML) the numbers of one edge, one node, or the current step-through phase, each with its
// equation filled in with the server's float64 values. Reads SessionState.record (targets too), .network, .phase,
// .example, .config (GET /api/sessions/{id}). Emits "edit-parameter" {kind, layer, i, j, value}.

import { fmt } from "./util.js";

const emit = (name, detail) => document.dispatchEvent(new CustomEvent(name, { detail }));
const n = (v, signed = false) => `<span class="num" data-value="${v}">${fmt(v, signed)}</span>`;
const vec = (arr) => `(${arr.map((v) => n(v)).join(", ")})`;
const sup = (s) => `<sup>${s}</sup>`;
const sub = (s) => `<sub>${s}</sub>`;

/** Losses whose output delta is fused with the output activation (engine/losses.py). */
const FUSED = ["bce", "softmax_ce"];
const LOSS_EQ = { mse: "(1/N) Σ ½(ŷ − y)²", bce: "−(1/N) Σ [y log ŷ + (1 − y) log(1 − ŷ)]", softmax_ce: "−(1/N) Σ y log ŷ" };

/** o^{k} of example d: layer 0 is the input row. */
const outputs = (rec, k, d) => (k === 0 ? rec.inputs[d] : rec.layers[k - 1].o[d]);

export function createInspector(el, opts = {}) {
  const readonly = !!opts.readonly;
  let current = null;

  function row(state) {
    const N = state.record.inputs.length;
    const d = state.example !== null && state.example >= 0 && state.example < N ? state.example : 0;
    return { d, N, note: `example d = ${d} of the batch of ${N}${state.example === null && !readonly ? " (pick one with “example”)" : ""}` };
  }

  function edge(state, t, check) {
    const { layer: k, i, j } = t;
    const isW = t.kind === "W";
    const name = isW ? `w${sub(`${i}${j}`)}${sup(k)}` : `b${sub(j)}${sup(k)}`;
    const w = isW ? state.network.weights[k - 1][i][j] : state.network.biases[k - 1][j];
    const input = readonly ? n(w)
      : `<input id="edit-value" type="number" step="any" value="${w}" data-kind="${t.kind}">`;
    let html = `<h3>Edge ${name}: ${isW ? `node ${i} of layer ${k - 1} → node ${j} of layer ${k}` : `bias of node ${j}, layer ${k}`}</h3>
      <p>${name} = ${input} (now)</p>`;
    const rec = state.record;
    if (!rec) return `${html}<p class="hint">Take a step to see ∂E/∂w and Δw.</p>`;
    const { d, note } = row(state);
    const g = isW ? rec.gradients.weights[k - 1][i][j] : rec.gradients.biases[k - 1][j];
    const u = isW ? rec.updates.weights[k - 1][i][j] : rec.updates.biases[k - 1][j];
    const delta = rec.layers[k - 1].delta[d][j];
    const o = isW ? outputs(rec, k - 1, d)[i] : 1;
    html += `<p class="eq">∂E/∂${name} = Σ${sub("d")} δ${sub(`${j}`)}${sup(k)} · o${sub(`${isW ? i : "bias"}`)}${sup(k - 1)}
      = ${n(g)} <span class="hint">(the sum over the batch; regularisation adds its term)</span></p>
      <p class="eq">term of ${note}: δ${sub(j)}${sup(k)} = ${n(delta)}, o${sub(isW ? i : "bias")}${sup(k - 1)} = ${n(o)}</p>
      <p class="eq">Δ${name} = ${n(u, true)} (${state.config.optimizer.name}, lr ${n(state.config.optimizer.learning_rate)});
      before the step ${name} = ${n(isW ? rec.weights_before?.[k - 1][i][j] : rec.biases_before?.[k - 1][j])}</p>`;
    if (check) {
      html += `<p class="eq check">gradient check: analytic ${n(check.analytic)}, numeric ${n(check.numeric)},
        relative error ${n(check.relative_error)}</p>`;
    }
    return html;
  }

  function node(state, t) {
    const { layer: k, j } = t;
    if (k === 0) return `<h3>Input ${state.feature_labels[j]}</h3><p>o${sub(j)}${sup(0)} is the feature itself.</p>`;
    const rec = state.record;
    const g = state.activations[k - 1];
    let html = `<h3>Node ${j} of layer ${k} (${g})</h3>`;
    if (!rec) return `${html}<p class="hint">Take a step to see a, o and δ.</p>`;
    const { d, note } = row(state);
    const L = state.layers.length - 1;
    const lay = rec.layers[k - 1];
    html += `<p class="eq">${note}: a${sub(j)}${sup(k)} = ${n(lay.a[d][j])}, o${sub(j)}${sup(k)} = ${g}(a) = ${n(lay.o[d][j])},
      δ${sub(j)}${sup(k)} = ${n(lay.delta[d][j])}</p>`;
    if (k === L) {
      html += `<p class="eq">δ${sub(j)}${sup(L)} = ∂E/∂a${sub(j)}${sup(L)}: the loss (${state.config.loss}) differentiated through ${g}, over N</p>`;
    } else {
      const wb = rec.weights_before || state.network.weights;
      const terms = wb[k][j].map((w, m) => `${n(w)}·${n(rec.layers[k].delta[d][m])}`).join(" + ");
      html += `<p class="eq">δ${sub(j)}${sup(k)} = ${g}′(a${sub(j)}${sup(k)}) · Σ${sub("m")} w${sub(`${j}m`)}${sup(k + 1)} δ${sub("m")}${sup(k + 1)}
        = ${g}′(${n(lay.a[d][j])}) · (${terms}) = ${n(lay.delta[d][j])}</p>`;
    }
    return html;
  }

  function phase(state) {
    const p = state.phase;
    const rec = state.record;
    if (!p || !rec) return "";
    const { d, N, note } = row(state);
    const k = p.layer;
    const head = `<h3>Phase ${p.index + 1} of ${p.count}: ${p.name}${k ? ` layer ${k}` : ""}</h3><p class="hint">${note}</p>`;
    if (p.name === "forward") {
      const lay = rec.layers[k - 1];
      return `${head}<p class="eq">a${sup(k)} = o${sup(k - 1)} W${sup(k)} + b${sup(k)}: o${sup(k - 1)} = ${vec(outputs(rec, k - 1, d))},
        b${sup(k)} = ${vec((rec.biases_before || state.network.biases)[k - 1])}</p>
        <p class="eq" data-field="a">a${sup(k)} = ${vec(lay.a[d])}</p>
        <p class="eq" data-field="o">o${sup(k)} = ${state.activations[k - 1]}(a${sup(k)}) = ${vec(lay.o[d])}</p>`;
    }
    if (p.name === "loss") {
      const L = state.layers.length - 1;
      const y = rec.targets ? rec.targets[d] : null;
      return `${head}<p class="eq" data-field="yhat">ŷ = o${sup(L)} = ${vec(rec.layers[L - 1].o[d])}</p>
        <p class="eq" data-field="y">y = ${y ? vec(y) : "—"}</p>
        <p class="eq" data-field="loss">E = ${LOSS_EQ[state.config.loss] || state.config.loss} over the batch of ${N} = ${n(rec.loss)}</p>`;
    }
    if (p.name === "backward") {
      const lay = rec.layers[k - 1];
      const L = state.layers.length - 1;
      const eq = k === L ? `δ${sup(L)}` : `δ${sup(k)} = ${state.activations[k - 1]}′(a${sup(k)}) ⊙ δ${sup(k + 1)} W${sup(k + 1)}ᵀ`;
      const from = k === L ? outputDelta(state, d, N)
        : `<p class="eq">δ${sup(k + 1)} = ${vec(rec.layers[k].delta[d])}, a${sup(k)} = ${vec(lay.a[d])}</p>`;
      return `${head}${from}<p class="eq" data-field="delta">${eq} = ${vec(lay.delta[d])}</p>
        <p class="eq">∂E/∂W${sup(k)} = o${sup(k - 1)}ᵀ δ${sup(k)}: first row ${vec(rec.gradients.weights[k - 1][0])}</p>`;
    }
    const rows = rec.updates.weights.map((U, m) => `<p class="eq">ΔW${sup(m + 1)} first row ${vec(U[0])}</p>`).join("");
    return `${head}<p class="eq">W ← W + ΔW, ΔW = −lr · ∂E/∂W for sgd (${state.config.optimizer.name}, lr ${n(state.config.optimizer.learning_rate)})</p>${rows}`;
  }

  /** δ^L of example d with its factors, all from the record: the fused (ŷ−y)/N for bce and
   * softmax_ce, else (ŷ−y)·g′(a^L)/N (g′ named, not evaluated: the view never recomputes). */
  function outputDelta(state, d, N) {
    const rec = state.record;
    const L = state.layers.length - 1;
    const out = rec.layers[L - 1];
    const y = rec.targets ? rec.targets[d] : [];
    const g = state.activations[L - 1];
    const fused = FUSED.includes(state.config.loss);
    const rows = out.delta[d].map((delta, j) => {
      const diff = `(${n(out.o[d][j])} − ${n(y[j])})`;
      const terms = fused ? `${diff} / ${N}` : `${diff} · ${g}′(${n(out.a[d][j])}) / ${N}`;
      return `<li>δ${sub(j)}${sup(L)} = ${terms} = ${n(delta)}</li>`;
    }).join("");
    const eq = fused ? `δ${sup(L)} = (ŷ − y) / N <span class="hint">(${state.config.loss} fused with ${g})</span>`
      : `δ${sup(L)} = (ŷ − y) · ${g}′(a${sup(L)}) / N`;
    return `<p class="eq">${eq}, N = ${N}:</p><ul class="eq terms" data-field="delta-terms">${rows}</ul>`;
  }

  el.addEventListener("change", (e) => {
    if (e.target.id !== "edit-value" || !current) return;
    const t = current;
    const value = Number(e.target.value);
    emit("edit-parameter", { kind: t.kind, layer: t.layer, i: t.kind === "W" ? t.i : t.j, j: t.kind === "W" ? t.j : null, value });
  });

  return {
    draw(state, target, check) {
      current = target;
      const parts = [];
      if (state.phase) parts.push(`<div class="phase">${phase(state)}</div>`);
      if (target) parts.push(`<div class="target">${target.kind === "node" ? node(state, target) : edge(state, target, check)}</div>`);
      el.innerHTML = parts.join("") || `<p class="hint">Click an edge or a node to see its numbers; → walks one step phase by phase.</p>`;
    },
  };
}
