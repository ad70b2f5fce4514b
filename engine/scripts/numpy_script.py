"""A run as one self-contained NumPy script: the engine's own definitions, cut to what the run
uses (engine/scripts/source.py), then the data, step 0, the batches, the changes and the loop.

The loop calls the engine's train_step, so the script's losses are the engine's.
"""

import engine.activations
import engine.losses
import engine.network
import engine.optimizers
import engine.regularizers
import engine.train
from engine.replay import Run
from engine.scripts.parts import (
    SET_BATCH_SIZE,
    Section,
    batches_section,
    changes_code,
    comment_block,
    data_section,
    dataclass_literal,
    literal,
    loop_head,
    wrapped,
)
from engine.scripts.source import Gathering

# The engine's phases, each with the modules whose docstrings give its equations.
PHASES = (
    ("activations", "Activations g and g′", (engine.activations,)),
    ("forward", "Phase 1 — forward", (engine.network,)),
    ("loss", "Phase 2 — loss", (engine.losses, engine.regularizers)),
    ("backward", "Phase 3 — backward", (engine.train,)),
    ("update", "Phase 4 — update", (engine.optimizers,)),
)
SECTION_BY_MODULE = {"engine.errors": "activations", "engine.activations": "activations",
                     "engine.network": "forward", "engine.losses": "loss",
                     "engine.regularizers": "loss", "engine.trace": "backward",
                     "engine.optimizers": "update"}
SECTION_IN_TRAIN = {"loss_value": "loss", "backward": "backward"}


def _section_of(module: str, name: str) -> str:
    if module == "engine.train":
        return SECTION_IN_TRAIN.get(name, "update")
    return SECTION_BY_MODULE.get(module, "update")


def gather(run: Run) -> Gathering:
    """The engine's definitions the run needs: its registries' entries, train_step and all
    train_step calls."""
    configs = run.step_configs()
    got = Gathering(tuple(p[0] for p in PHASES), _section_of)
    got.entries("engine.activations", "ACTIVATIONS", run.activation_names())
    got.entries("engine.losses", "LOSSES", {c.loss for c in configs})
    got.entries("engine.optimizers", "OPTIMIZERS", {c.optimizer.name for c in configs})
    got.entries("engine.regularizers", "REGULARIZERS",
                {c.regularization for c in configs} - {None})
    got.definitions("engine.train", "StepConfig", "train_step")
    return got


def sections(run: Run) -> list[Section]:
    """The script's parts in order; the notebook makes a markdown and a code cell of each."""
    got = gather(run)
    engine_parts = [
        Section(title, _docstrings(modules) + _equations(run, name), got.text(name))
        for name, title, modules in PHASES
    ]
    return [
        Section(f"Backprop Playground — {run.title}",
                f"Replays {run.title} from step 0 with NumPy and prints the loss E of every "
                "step. The definitions below are the engine's own (engine/*.py), cut to what "
                "this run uses; the notation is the engine's: layer k = 1..L, a[k] = weighted "
                "input, o[k] = output, delta[k] = ∂E/∂a[k], W[k], b[k]. " + EXACTNESS,
                "from __future__ import annotations   # type hints that name later classes\n\n"
                + got.import_lines()),
        data_section(run),
        *engine_parts,
        _start_section(run),
        batches_section(run),
        *([_changes_section(run)] if run.changes else []),
        _loop_section(run),
    ]


EXACTNESS = (
    "The session's own steps ran in the server's compiled loop, whose sums and tanh differ from "
    "NumPy's in the last bit: the losses agree to about 1e-12 unless the run magnifies such "
    "differences (momentum at a high rate on small batches can), and then they part after a "
    "hundred steps or so."
)


def numpy_script(run: Run) -> str:
    """The run as one self-contained NumPy script that replays it and prints its losses."""
    parts = sections(run)
    head = f'"""{parts[0].title}\n\n{wrapped(parts[0].text)}\n"""\n\n{parts[0].code}\n'
    body = "".join(f"\n\n{comment_block(s.title, s.text)}\n\n{s.code}\n" for s in parts[1:])
    return head + body


def _docstrings(modules) -> str:
    text = "\n\n".join(m.__doc__.strip() for m in modules)
    return f"From {', '.join(m.__name__.replace('.', '/') + '.py' for m in modules)}:\n\n" \
           f"```text\n{text}\n```"


def _equations(run: Run, phase: str) -> str:
    configs = run.step_configs()
    if phase == "loss":
        shown = {c.loss: engine.losses.LOSSES[c.loss].equation for c in configs}
    elif phase == "update":
        shown = {c.optimizer.name: engine.optimizers.OPTIMIZERS[c.optimizer.name].equation
                 for c in configs}
    else:
        return ""
    return "".join(f"\n\n{name}: $${tex}$$" for name, tex in shown.items())


def _start_section(run: Run) -> Section:
    W = "".join(f"    {literal(run.W[k], '    ')},   # W[{k}]: ({run.sizes[k - 1]}, "
                f"{run.sizes[k]})\n" for k in range(1, run.L + 1))
    b = "".join(f"    {literal(run.b[k])},   # b[{k}]\n" for k in range(1, run.L + 1))
    return Section(
        "Step 0",
        "The network as the run started: W[k][i, j] = w_ij^k from node i of layer k−1 to node "
        "j of layer k; θ holds every W[k] then every b[k], and W, b are views into it.",
        f"sizes = {list(run.sizes)!r}\nactivations = {list(run.activations)!r}\n"
        f"W = [\n    None,\n{W}]\nb = [\n    None,\n{b}]\n"
        "net = Network(sizes, activations, Layout(tuple(sizes)).flatten(W, b))\n"
        f"cfg = {dataclass_literal(run.step)}\n"
        "state = OPTIMIZERS[cfg.optimizer.name].init_state(net.layout.n_params)",
    )


def _render_change(change) -> str:
    if change.kind == "step":
        return dataclass_literal(change.value, "    ")
    return repr(change.value)


APPLY = {
    "step": """\
        if kind == "step":     # as Trainer.set_step_config: a new optimizer starts afresh
            if value.optimizer.name != cfg.optimizer.name:
                state = OPTIMIZERS[value.optimizer.name].init_state(net.layout.n_params)
            cfg = value""",
    "batch_size": SET_BATCH_SIZE,
    "activation": """\
        if kind == "activation":   # every hidden layer; the weights stay
            net = Network(net.sizes, [value] * (net.L - 1) + [net.activations[-1]], net.theta)""",
    "parameter": """\
        if kind == "parameter":    # a weight or bias set by hand; it ends a divergence
            part, k, i, j, x = value
            if part == "W":
                net.W[k][i, j] = x
            else:
                net.b[k][i] = x
            diverged = False""",
}


def _changes_section(run: Run) -> Section:
    return Section(
        "The changes",
        "Every change made during the run, with the number of steps taken before it.",
        changes_code(run, _render_change),
    )


def _loop_section(run: Run) -> Section:
    return Section(
        "The run",
        "Each step: the next batch, then train_step (forward, loss, backward, update). A step "
        "whose loss or new θ is not finite leaves θ unchanged (diverged); the run goes on only "
        "after a weight is edited. Prints each step's E.",
        loop_head(run, APPLY) +
        "    net, state, record = train_step(net, state, X_train[rows], Y_train[rows], cfg)\n"
        "    print(f\"{len(losses):6d}  {record.E!r}\")\n"
        "    losses.append(record.E)\n"
        "    if record.diverged:                           # θ unchanged, the same batch next\n"
        "        diverged = True\n"
        "    else:\n"
        "        cursor += len(rows)",
    )
