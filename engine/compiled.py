"""train.py's training step compiled with numba, run n times over preallocated arrays.

The kernel is engine/loop.py's loop followed by a dispatch generated here from the registries
(activations, losses, optimizers, regularizers): one branch an entry, calling the entry's
scalar form of its formula. So a new entry reaches the compiled loop with no edit here, and
its name's code is simply its place in the registry. train.py stays the readable reference
that makes the records; tests/engine/test_compiled.py holds the two together to 1e-10.

numba caches compiled code by source file and checks only that file's date, not the files of
the functions it calls. So the generated module is written to a file named by a hash of its
own text and of every file a formula it calls comes from: a changed formula, a new entry or a
changed loop is a new file, compiled afresh, never a stale cache.
"""

import hashlib
import importlib.util
import inspect
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FunctionType, ModuleType

import numpy as np
from numba import njit

from engine.activations import ACTIVATIONS
from engine.errors import EngineError
from engine.losses import LOSSES
from engine.network import Network
from engine.optimizers import OPTIMIZERS, OptimizerState
from engine.regularizers import REGULARIZERS
from engine.train import StepConfig

LOOP = Path(__file__).with_name("loop.py")
REGISTRIES = {"ACTIVATIONS": ACTIVATIONS, "LOSSES": LOSSES, "OPTIMIZERS": OPTIMIZERS,
              "REGULARIZERS": REGULARIZERS}


@dataclass(frozen=True)
class Spec:
    """A network's shape and a StepConfig as the kernel's arrays, with the kernel built from
    the registries as they were."""

    sizes: np.ndarray          # (L+1,) int64: n_0 … n_L
    g: np.ndarray              # (L+1,) int64: code of g_k; g[0] unused
    codes: np.ndarray          # (5,) int64: loss, optimizer, regularization, train_biases, fused
    hyper: np.ndarray          # float64: α, then the optimizer's hypers in its order
    lam: float                 # λ
    optimizer: str
    slot_names: tuple[str, ...]
    kernel: object             # the compiled loop.train


@dataclass(frozen=True)
class Chunk:
    """What a run of steps did; θ itself was updated in place."""

    state: OptimizerState      # after the last step taken (the given object if none was)
    epoch: int                 # the row of orders it stopped in
    cursor: int                # where the next batch starts in that row
    losses: np.ndarray         # E of every step run, a final diverged one included
    diverged: bool             # the last step run diverged; θ and state are from before it

    @property
    def taken(self) -> int:
        return len(self.losses) - self.diverged


def make_spec(net: Network, cfg: StepConfig) -> Spec:
    """Encode net's shape and activations and cfg's names and numbers for the kernel."""
    codes = {name: tuple(registry) for name, registry in REGISTRIES.items()}
    unknown = [name for name, known in ((cfg.loss, codes["LOSSES"]),
                                        (cfg.optimizer.name, codes["OPTIMIZERS"]),
                                        (cfg.regularization, (None, *codes["REGULARIZERS"])),
                                        *((g, codes["ACTIVATIONS"]) for g in net.activations))
               if name not in known]
    if unknown:
        raise EngineError(f"the compiled loop knows no {unknown}")
    opt, optimizer = cfg.optimizer, OPTIMIZERS[cfg.optimizer.name]
    return Spec(
        sizes=np.array(net.sizes, dtype=np.int64),
        g=np.array([-1, *map(codes["ACTIVATIONS"].index, net.activations)], dtype=np.int64),
        codes=np.array([codes["LOSSES"].index(cfg.loss), codes["OPTIMIZERS"].index(opt.name),
                        (None, *codes["REGULARIZERS"]).index(cfg.regularization),
                        int(cfg.train_biases), int(LOSSES[cfg.loss].fused)], dtype=np.int64),
        hyper=np.array([opt.learning_rate, *(getattr(opt, h.name) for h in optimizer.hypers)],
                       dtype=np.float64),
        lam=float(cfg.regularization_rate),
        optimizer=opt.name,
        slot_names=optimizer.slot_names,
        kernel=kernel_module().train,
    )


def train_epoch_steps(spec: Spec, theta: np.ndarray, state: OptimizerState, X: np.ndarray,
                      Y: np.ndarray, orders: np.ndarray, cursor: int, batch_size: int,
                      n: int) -> Chunk:
    """Up to n steps through epochs of X: (rows, n_0), Y: (rows, n_L) in the row orders
    orders: (epochs, rows) int64, each batch the next batch_size positions of the epoch's order
    (a last short batch included), the first from position cursor of orders[0]. A step that
    ends an epoch goes on to the next row of orders; the run stops after n steps, at the end
    of the last epoch, or at a step that diverges. theta: (n_params,) is updated in place."""
    return _run(spec, theta, state, X, Y, orders, cursor, batch_size, 0, max(0, n))


def train_fixed_steps(spec: Spec, theta: np.ndarray, state: OptimizerState, X: np.ndarray,
                      Y: np.ndarray, n: int) -> Chunk:
    """Up to n steps on the whole batch X: (N, n_0), Y: (N, n_L); stops at a diverged step."""
    orders = np.arange(len(X), dtype=np.int64).reshape(1, len(X))
    return _run(spec, theta, state, X, Y, orders, 0, len(X), 1, max(0, n))


def warm_up() -> float:
    """Compile the kernel, or load it from numba's cache, on a tiny problem; returns seconds."""
    start = time.perf_counter()
    net = Network((2, 2, 1), ("tanh", "sigmoid"), np.zeros(9))
    X, Y, orders = np.zeros((3, 2)), np.zeros((3, 1)), np.array([[2, 0, 1], [1, 2, 0]])
    state = OPTIMIZERS["sgd"].init_state(9)
    train_epoch_steps(make_spec(net, StepConfig()), net.theta, state, X, Y, orders, 0, 2, 3)
    return time.perf_counter() - start


def _run(spec, theta, state, X, Y, orders, cursor, batch_size, wrap, n) -> Chunk:
    slots = np.zeros((len(spec.slot_names), theta.size))      # every optimizer: one signature
    for i, name in enumerate(spec.slot_names):
        slots[i] = state.slots[name]
    losses = np.empty(n)
    taken, epoch, cursor, t, diverged = spec.kernel(
        theta, slots, state.t, spec.sizes, spec.g, spec.codes, spec.hyper, spec.lam,
        np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(Y, dtype=np.float64),
        np.ascontiguousarray(orders, dtype=np.int64), int(cursor), int(batch_size), wrap, losses)
    if taken:
        state = OptimizerState(spec.optimizer, int(t),
                               {name: slots[i] for i, name in enumerate(spec.slot_names)})
    return Chunk(state, int(epoch), int(cursor), losses[: taken + diverged], bool(diverged))


# The kernel module: loop.py's text and the dispatch generated from the registries


def kernel_module() -> ModuleType:
    """The compiled loop for the registries as they are now (built once for each state)."""
    return _kernel_module(tuple((name, tuple(registry.items()))
                                for name, registry in REGISTRIES.items()))


@cache
def _kernel_module(registries) -> ModuleType:
    source = kernel_source()
    formulas = sorted({path for entry_fn in _entry_formulas() for path in _files(entry_fn)})
    digest = hashlib.sha256(source.encode())
    for path in formulas:
        digest.update(Path(path).read_bytes())
    name = f"backprop_kernel_{digest.hexdigest()[:20]}"
    return _load(name, _written(name + ".py", source))


def kernel_source() -> str:
    """loop.py followed by its dispatch: for each registry code, a branch that calls the
    entry's scalar formula (compiled by formula(), numba inlining it into the loop)."""
    activations, regularizers = list(ACTIVATIONS.items()), list(REGULARIZERS.items())
    lines = [LOOP.read_text(), "", "# Generated by engine/compiled.py from the registries: one "
             "branch an entry, its code the entry's place.", "",
             "from engine.activations import ACTIVATIONS  # noqa: E402",
             "from engine.compiled import formula  # noqa: E402",
             "from engine.losses import LOSSES  # noqa: E402",
             "from engine.optimizers import OPTIMIZERS  # noqa: E402",
             "from engine.regularizers import REGULARIZERS  # noqa: E402", ""]
    for code, (name, g) in enumerate(activations):
        if g.g_rows is None and (g.g_at is None or (g.dg_at is None and g.dg is not None)):
            raise EngineError(f"activation {name}: the compiled loop needs its g_at and "
                              "dg_at (or g_rows)")
        for field in ("g_at", "dg_at", "g_rows"):
            if getattr(g, field) is not None:
                lines.append(f"{field.upper()}_{code} = formula(ACTIVATIONS[{name!r}].{field})")
    for field, registry in (("E_rows", LOSSES), ("delta_at", LOSSES),
                            ("penalty_at", REGULARIZERS), ("grad_at", REGULARIZERS),
                            ("update_loop", OPTIMIZERS)):
        registry_name = next(k for k, v in REGISTRIES.items() if v is registry)
        first = 1 if registry is REGULARIZERS else 0           # 0: no regularization
        for code, (name, entry) in enumerate(registry.items(), first):
            if getattr(entry, field) is None:
                raise EngineError(f"{name}: the compiled loop needs its {field}")
            lines.append(f"{field.upper()}_{code} = formula({registry_name}[{name!r}].{field})")
    lines += _dispatch("activate(code, a, o, N, n)", [
        (code, name, [f"G_ROWS_{code}(a, o, N, n)"] if g.g_rows is not None else [
            "for d in range(N):", "    for j in range(n):",
            f"        o[d, j] = G_AT_{code}(a[d, j])"])
        for code, (name, g) in enumerate(activations)])
    lines += _dispatch("derivative(code, a, o)", [
        (code, name, [f"return DG_AT_{code}(a, o)"])
        for code, (name, g) in enumerate(activations) if g.dg_at is not None
    ], "return math.nan  # no elementwise g': only ever fused with its loss")
    lines += _dispatch("loss_of(code, a, o, Y, N, n)", [
        (code, name, [f"return E_ROWS_{code}(a, o, Y, N, n)"])
        for code, name in enumerate(LOSSES)], "return math.nan")
    lines += _dispatch("output_gradient(code, o, y, N)", [
        (code, name, [f"return DELTA_AT_{code}(o, y, N)"])
        for code, name in enumerate(LOSSES)], "return math.nan")
    lines += _dispatch("penalty_term(code, w)", [
        (code, name, [f"return PENALTY_AT_{code}(w)"])
        for code, (name, _) in enumerate(regularizers, 1)], "return 0.0")
    lines += _dispatch("penalty_grad(code, w)", [
        (code, name, [f"return GRAD_AT_{code}(w)"])
        for code, (name, _) in enumerate(regularizers, 1)], "return 0.0")
    lines += _dispatch("optimize(code, grad, slots, slots_new, hyper, t, update)", [
        (code, name, [f"UPDATE_LOOP_{code}(grad, slots, slots_new, hyper, t, update)"])
        for code, name in enumerate(OPTIMIZERS)])
    return "\n".join(lines) + "\n"


def _dispatch(signature: str, branches, fallback: str | None = None) -> list[str]:
    lines = ["", "", "@kernel", f"def {signature}:"]
    for i, (code, name, body) in enumerate(branches):
        lines.append(f"    {'if' if i == 0 else 'elif'} code == {code}:  # {name}")
        lines += [f"        {line}" for line in body]
    if fallback is not None:
        lines.append(f"    {fallback}")
    return lines


@cache
def formula(fn: FunctionType):
    """fn compiled for the kernel, with every plain function it calls (a helper beside it,
    as softmax_ce's row_max) compiled alike: numba calls only compiled functions."""
    names = dict(fn.__globals__)
    for name in fn.__code__.co_names:
        if isinstance(names.get(name), FunctionType):
            names[name] = formula(names[name])
    rebuilt = FunctionType(fn.__code__, names, fn.__name__, fn.__defaults__, fn.__closure__)
    return njit(error_model="numpy")(rebuilt)


def _entry_formulas():
    for registry in REGISTRIES.values():
        for entry in registry.values():
            for value in vars(entry).values():
                if isinstance(value, FunctionType):
                    yield value


def _files(fn: FunctionType, seen=None) -> set[str]:
    """The source files of fn and of every plain function it calls."""
    seen = set() if seen is None else seen
    if fn in seen:
        return set()
    seen.add(fn)
    files = {inspect.getsourcefile(fn)}
    for name in fn.__code__.co_names:
        value = fn.__globals__.get(name)
        if isinstance(value, FunctionType):
            files |= _files(value, seen)
    return files


def _written(filename: str, source: str) -> Path:
    """The generated module's file, written once: beside numba's cache (NUMBA_CACHE_DIR), else
    in engine/__pycache__, else (neither writable) in the temporary folder."""
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    first = Path(cache_dir) / "backprop-kernel" if cache_dir else LOOP.parent / "__pycache__"
    for folder in (first, Path(tempfile.gettempdir()) / f"backprop-kernel-{os.getuid()}"):
        path = folder / filename
        if path.exists():
            return path
        try:
            folder.mkdir(parents=True, exist_ok=True)
            part = path.with_suffix(f".{os.getpid()}.part")
            part.write_text(source)
            os.replace(part, path)       # whole or absent: another process may be reading it
            return path
        except OSError:
            continue
    raise EngineError("the compiled loop: no writable folder for its module")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
