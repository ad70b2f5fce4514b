// Draws nothing: the one table of settings that drives URL ⇄ controls ⇄ SessionConfig (as TFP's state.ts).
// Reads no frame fields; `structural` settings need a new session, `live` ones PATCH it, `view` ones
// only change the page. A preset (?preset=) or an adopted session (?session=) stands for the
// structural ones. Emits no events (controls.js and main.js do). The optimizers' hyper-parameters
// (μ, β₁, …) are rows made from the engine's registry (registry.js), one per name.

import { REGISTRY } from "./registry.js";

const num = { parse: Number, show: String };
const int = { parse: (s) => parseInt(s, 10), show: String };
const str = { parse: String, show: String };
const list = { parse: (s) => (s ? s.split(",") : []), show: (v) => v.join(",") };
const ints = { parse: (s) => (s ? s.split(",").map((x) => parseInt(x, 10)) : []), show: (v) => v.join(",") };
// epochs/s, or "max": as fast as it goes (null); none, zero or a negative pace does not parse
const pace = { parse: (s) => (s === "max" ? null : Number(s) > 0 ? Number(s) : NaN), show: (v) => (v === null ? "max" : String(v)) };
const bool = { parse: (s) => s === "1" || s === "true", show: (v) => (v ? "1" : "0") };

/** key: URL name and control id; def: TensorFlow Playground's default; live: how to PATCH it (the
 * ConfigPatch body live.js sends through api.patch); play: sent with POST /play (as steps/s, pace.js). */
export const SETTINGS = [
  { key: "dataset", kind: str, def: "circle", structural: true },
  { key: "noise", kind: num, def: 0, structural: true },
  { key: "train_share", kind: num, def: 50, structural: true },
  { key: "data_seed", kind: int, def: 0, structural: true },
  { key: "seed", kind: int, def: 0, structural: true },
  { key: "features", kind: list, def: ["x1", "x2"], structural: true },
  { key: "hidden", kind: ints, def: [4, 2], structural: true },
  { key: "loss", kind: str, def: "", structural: true },
  { key: "batch_size", kind: int, def: 10, live: (s) => ({ batch_size: s.batch_size }) },
  { key: "activation", kind: str, def: "tanh", live: (s) => ({ activation: s.activation }) },
  { key: "learning_rate", kind: num, def: REGISTRY.optimizers.sgd.learning_rate, live: (s) => ({ learning_rate: s.learning_rate }) },
  { key: "optimizer", kind: str, def: "sgd", live: (s) => ({ optimizer: optimizer(s) }) },
  ...Object.entries(REGISTRY.hypers).map(([key, h]) => ({ key, kind: num, def: h.default, live: (s) => ({ optimizer: optimizer(s) }) })),
  { key: "train_biases", kind: bool, def: true, live: (s) => ({ train_biases: s.train_biases }) },
  { key: "regularization", kind: str, def: "none", live: regPatch },
  { key: "reg_rate", kind: num, def: 0.001, live: regPatch },
  { key: "edge_mode", kind: str, def: "gradient", view: true },
  { key: "show_test", kind: bool, def: false, view: true },
  { key: "discretize", kind: bool, def: false, view: true },
  { key: "loss_log", kind: bool, def: false, view: true },
  { key: "projector", kind: bool, def: false, view: true },
  // TFP plays an epoch a frame; 10 epochs/s lets the circle's loss fall over about 5 s
  { key: "pace", kind: pace, def: 10, play: true },
  { key: "preset", kind: str, def: "" },
];

export const BY_KEY = Object.fromEntries(SETTINGS.map((s) => [s.key, s]));

function optimizer(s) {
  const out = { name: s.optimizer, learning_rate: s.learning_rate };
  const spec = REGISTRY.optimizers[s.optimizer];
  for (const h of spec ? spec.hypers : []) out[h.name] = s[h.name];
  return out;
}

function regularization(s) {
  return s.regularization === "none" ? null : { name: s.regularization, rate: s.reg_rate };
}

function regPatch(s) {
  const r = regularization(s);
  return r ? { regularization: r } : { regularization: null, regularization_off: true };
}

/** Settings from a query string; unknown or unparsable values fall back to the default. */
export function fromURL(search) {
  const params = new URLSearchParams(search);
  const out = {};
  for (const s of SETTINGS) {
    const raw = params.get(s.key);
    const value = raw === null ? null : s.kind.parse(raw);
    const bad = raw === null || (typeof value === "number" && Number.isNaN(value));
    out[s.key] = bad ? structuredClone(s.def) : value;
  }
  return out;
}

/**
 * The query string for these settings: only what differs from the defaults. With an `origin`
 * ({key: "preset"|"session"|"watch", value, base}) that key stands for the structural settings; a
 * preset adds the live settings changed since it opened (`base`), the others only view settings.
 */
export function toURL(settings, origin = null) {
  const params = new URLSearchParams();
  if (origin && origin.value) params.set(origin.key, origin.value);
  for (const s of SETTINGS) {
    if (origin && (s.structural || s.key === "preset" || (origin.key !== "preset" && s.live))) continue;
    const shown = s.kind.show(settings[s.key]);
    const ref = origin && s.live ? origin.base[s.key] : s.def;
    if (shown !== s.kind.show(ref)) params.set(s.key, shown);
  }
  const q = params.toString();
  return q ? `?${q}` : "";
}

/** The SessionConfig (docs/stream.md) these settings describe; `data` for the user's points. */
export function toConfig(settings, data = null) {
  const cfg = {
    dataset: settings.dataset,
    noise: settings.noise,
    train_share: settings.train_share,
    data_seed: settings.data_seed,
    seed: settings.seed,
    features: settings.features,
    hidden: settings.hidden,
    activation: settings.activation,
    optimizer: optimizer(settings),
    batch_size: settings.batch_size,
    regularization: regularization(settings),
    train_biases: settings.train_biases,
  };
  if (settings.loss) cfg.loss = settings.loss;
  if (settings.dataset === "custom") cfg.data = data;
  return cfg;
}

/** Settings that describe a resolved SessionConfig (a watched, preset or adopted session); `view`
 * settings and the speed are taken from `current`. */
export function fromConfig(config, current = null) {
  const s = fromURL("");
  for (const key of Object.keys(s)) if (key in config && config[key] !== null) s[key] = config[key];
  for (const key of Object.keys(REGISTRY.hypers)) if (key in config.optimizer) s[key] = config.optimizer[key];
  if (current) for (const spec of SETTINGS) if (spec.view || spec.play) s[spec.key] = current[spec.key];
  s.learning_rate = config.optimizer.learning_rate;
  s.optimizer = config.optimizer.name;
  s.regularization = config.regularization ? config.regularization.name : "none";
  if (config.regularization) s.reg_rate = config.regularization.rate;
  return s;
}
