"""Pieces of script text every export shares: array literals, the data, the batch order.

Numbers are written by repr, which round-trips a float exactly, so a script starts from the
very bits the run started from.
"""

import textwrap
from dataclasses import dataclass, fields

import numpy as np

from engine.replay import Run


@dataclass(frozen=True)
class Section:
    """One part of a script: a title, what it says (markdown) and its code."""

    title: str
    text: str
    code: str


def literal(array: np.ndarray, indent: str = "") -> str:
    """np.array(…) source for a 1-D or 2-D float array, one row a line."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 1:
        return f"np.array({array.tolist()!r})"
    rows = ",\n".join(f"{indent}    {row!r}" for row in array.tolist())
    return f"np.array([\n{rows},\n{indent}])"


def dataclass_literal(value, indent: str = "") -> str:
    """A dataclass's constructor call, one field a line (nested dataclasses on one line)."""
    inner = indent + "    "
    args = "".join(f"{inner}{f.name}={getattr(value, f.name)!r},\n" for f in fields(value))
    return f"{type(value).__name__}(\n{args}{indent})"


def data_section(run: Run) -> Section:
    names = ", ".join(run.features) if run.features else f"{run.X.shape[1]} inputs"
    return Section(
        "The data",
        f"The training set's {len(run.X)} rows: `X_train` is the input layer o⁰ "
        f"(columns {names}), `Y_train` the targets. Every batch is rows of these.",
        f"X_train = {literal(run.X)}\nY_train = {literal(run.Y)}",
    )


def batches_section(run: Run) -> Section:
    return Section(
        "The batches",
        "The batch order is the engine's: a permutation of the rows per epoch from the run's "
        "seed (the second stream `SeedSequence(seed).spawn(2)` gives; the first initialised "
        "the weights), each batch the next `batch_size` rows of it.",
        f"SEED = {run.seed}\n"
        "rng = np.random.default_rng(np.random.SeedSequence(SEED).spawn(2)[1])\n"
        "order, cursor = rng.permutation(len(X_train)), 0\n"
        f"batch_size = {run.batch_size}\n"
        f"STEPS = {run.steps}   # the steps the run ran (a diverged one included)",
    )


def changes_code(run: Run, render) -> str:
    """CHANGES = [(step, kind, value), …], each value as `render(change)` writes it."""
    lines = "".join(f"    ({c.step}, {c.kind!r}, {render(c)}),\n" for c in run.changes)
    return f"CHANGES = [   # (after how many steps run, what, the new value)\n{lines}]"


NEXT_BATCH = """\
    if cursor >= len(order):                      # the epoch's end: the next permutation
        order, cursor = rng.permutation(len(X_train)), 0
    rows = order[cursor : cursor + batch_size]"""


CHANGE_LOOP = """\
    while next_change < len(CHANGES) and CHANGES[next_change][0] == len(losses):
        _, kind, value = CHANGES[next_change]
        next_change += 1"""

SET_BATCH_SIZE = """\
        if kind == "batch_size":
            batch_size = value"""


def loop_head(run: Run, apply: dict[str, str]) -> str:
    """The replay loop up to its batch: the loop's state, the run's changes made at their
    steps (`apply`: a change's kind -> the script's lines that make it; only the kinds the run
    has are written), the stop, the next batch's rows."""
    kinds = [kind for kind in apply if any(c.kind == kind for c in run.changes)]
    if not kinds:
        start, made = "losses, diverged = [], False", ""
    else:
        start = "losses, diverged, next_change = [], False, 0"
        made = "".join(f"{code}\n" for code in [CHANGE_LOOP, *(apply[k] for k in kinds)])
    return (f"{start}\nwhile True:\n{made}"
            f"    if len(losses) == STEPS or diverged:\n        break\n{NEXT_BATCH}\n")


def wrapped(markdown: str) -> str:
    """Markdown as plain lines of at most 96 characters (a fenced block kept as it is, the
    notebook's TeX left out)."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced or not line:
            out.append(line)
        elif "$$" not in line:
            out.extend(textwrap.wrap(line, 96))
    return "\n".join(out).rstrip()


def comment_block(title: str, markdown: str) -> str:
    """A script section's heading line and its text as comments."""
    lines = "\n".join(f"# {line}".rstrip() for line in wrapped(markdown).splitlines())
    return f"# --- {title} " + "-" * max(3, 90 - len(title)) + "\n" + lines
