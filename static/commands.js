// Draws nothing: the buttons' and keys' commands (play at its pace, step, phases, reset, undo, a new
// session, presets, save, layers and neurons) as calls to the session API. Reads frame.status (play or
// pause). Emits "setting-change" {key, value} for the structural ones (layers, neurons, regenerate).

import { stepsPerEpoch, stepsPerSecond } from "./pace.js";
import { emit } from "./events.js";

/** page: the page's state (page-state.js); hooks: {root, call, message, sessions (sessions.js), saved}.
 * Returns run({name, …}). */
export function createCommands(page, { root, call, message, sessions, saved }) {
  const structural = (key, value) => emit("setting-change", { key, value });
  const max = { layers: Number(root.dataset.maxLayers), neurons: Number(root.dataset.maxNeurons) };
  const playing = () => page.frame && page.frame.status === "playing";
  // the pace (epochs/s) as the steps/s the server plays at, for this data and batch size
  const speed = () => stepsPerSecond(page.settings.pace, stepsPerEpoch(page.state, page.settings.batch_size));

  const commands = {
    play: () => call(() => (playing() ? page.api.pause() : page.api.play(speed()))),
    speed: () => playing() && call(() => page.api.play(speed())),   // a new pace or batch size, at once
    step: () => call(() => page.api.step(1)),
    reset: () => call(() => page.api.reset()),
    undo: () => call(() => page.api.undo()).then((state) => state && sessions.undone(state)),
    "new-session": () => sessions.newSession(),
    "phase-next": () => call(() => page.api.phase("next")),
    "phase-prev": () => call(() => page.api.phase("prev")),
    preset: ({ value }) => sessions.preset(value),
    save: () => page.api.save().then(saved, (err) => message(err.message)),
    regenerate: () => structural("data_seed", page.settings.data_seed + 1),
    "add-layer": () => (page.settings.hidden.length < max.layers ? structural("hidden", [...page.settings.hidden, 2])
      : message(`hidden: at most ${max.layers} hidden layers`)),
    "remove-layer": () => page.settings.hidden.length && structural("hidden", page.settings.hidden.slice(0, -1)),
    neurons: ({ layer, delta }) => {
      const hidden = page.settings.hidden;
      const n = hidden[layer] + delta;
      if (n < 1 || n > max.neurons) return message(`hidden: 1 to ${max.neurons} neurons a layer`);
      structural("hidden", hidden.map((h, l) => (l === layer ? n : h)));
    },
  };
  return (command) => commands[command.name](command);
}
