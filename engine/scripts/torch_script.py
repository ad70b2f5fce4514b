"""A run as a PyTorch script in float64: nn.Linear layers holding the run's step-0 weights, the
engine's optimizer as its torch.optim equivalent, the same batches in the same order.

nn.Linear keeps w^k transposed, weight (n_k, n_{k-1}). The penalty is added to E, as the engine
adds it, so autograd gives its gradient (λ sign w, λ w) on the weights only.
"""

from dataclasses import asdict

from engine.replay import Run
from engine.scripts.parts import (
    SET_BATCH_SIZE,
    batches_section,
    changes_code,
    comment_block,
    data_section,
    literal,
    loop_head,
)

# The engine's activations, losses and penalties in PyTorch's words (torch.nn.functional: F).
TORCH_G = {
    "sigmoid": "torch.sigmoid",
    "tanh": "torch.tanh",
    "relu": "torch.relu",
    "leaky_relu": "lambda a: F.leaky_relu(a, 0.01)",
    "linear": "lambda a: a",
    "softmax": "lambda a: torch.softmax(a, dim=1)",
}
TORCH_E = {   # (a^L, o^L, Y) -> E, mean over the batch's rows, summed over output nodes
    "mse": "lambda a, o, Y: 0.5 * ((o - Y) ** 2).sum() / len(Y)",
    "bce": "lambda a, o, Y: F.binary_cross_entropy_with_logits(a, Y, reduction=\"sum\") / len(Y)",
    "softmax_ce": "lambda a, o, Y: F.cross_entropy(a, Y, reduction=\"sum\") / len(Y)",
}
TORCH_PENALTY = {
    "l1": "lambda w, lam: lam * w.abs().sum()",
    "l2": "lambda w, lam: 0.5 * lam * (w * w).sum()",
}

OPTIMIZER_CODE = '''\
def make_optimizer(opt):
    """The engine's optimizer as torch.optim's (a new one starts from a fresh state)."""
    params = [p for layer in layers for p in (layer.weight, layer.bias)]
    if opt["name"] == "sgd":
        return torch.optim.SGD(params, lr=opt["learning_rate"])
    if opt["name"] == "momentum":
        # torch: buf ← μ buf + g, θ −= α buf; the engine: v ← μv − αg, θ += v. With dampening 0
        # and nesterov off these are one update, v = −α buf (set_learning_rate keeps it so).
        return torch.optim.SGD(params, lr=opt["learning_rate"], momentum=opt["momentum"])
    # torch's Adam is the engine's: m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), Δθ = −α m̂/(√v̂ + ε),
    # ε added after the bias correction.
    return torch.optim.Adam(params, lr=opt["learning_rate"], betas=(opt["beta1"], opt["beta2"]),
                            eps=opt["epsilon"])


def set_optimizer(optimizer, opt):
    """New numbers for the same optimizer, its state kept, as the engine keeps it."""
    for group in optimizer.param_groups:
        if opt["name"] == "momentum":
            # torch's buffer carries no α, the engine's velocity does: rescale the buffer so
            # that −α buf stays the engine's v when α changes.
            for p in group["params"]:
                state = optimizer.state.get(p, {})
                if state.get("momentum_buffer") is not None:
                    state["momentum_buffer"].mul_(group["lr"] / opt["learning_rate"])
            group["momentum"] = opt["momentum"]
        if opt["name"] == "adam":
            group["betas"], group["eps"] = (opt["beta1"], opt["beta2"]), opt["epsilon"]
        group["lr"] = opt["learning_rate"]


def set_train_biases(train):
    for layer in layers:     # a fixed bias gets no gradient, so torch.optim leaves it alone
        layer.bias.requires_grad_(train)'''

APPLY = {
    "step": """\
        if kind == "step":
            if value["optimizer"]["name"] != cfg["optimizer"]["name"]:
                optimizer = make_optimizer(value["optimizer"])
            else:
                set_optimizer(optimizer, value["optimizer"])
            set_train_biases(value["train_biases"])
            cfg = value""",
    "batch_size": SET_BATCH_SIZE,
    "activation": """\
        if kind == "activation":   # every hidden layer; the weights stay
            activations = [value] * (len(activations) - 1) + [activations[-1]]""",
    "parameter": """\
        if kind == "parameter":    # a weight or bias set by hand (W[k][i, j] is weight[j, i])
            part, k, i, j, x = value
            with torch.no_grad():
                if part == "W":
                    layers[k - 1].weight[j, i] = x
                else:
                    layers[k - 1].bias[i] = x
            diverged = False""",
}


def torch_script(run: Run) -> str:
    """The run as a PyTorch (float64) script that replays it and prints its losses."""
    configs = run.step_configs()
    used = sorted(run.activation_names())
    g = "".join(f"    {name!r}: {TORCH_G[name]},\n" for name in used)
    E = "".join(f"    {name!r}: {TORCH_E[name]},\n" for name in sorted({c.loss for c in configs}))
    regs = sorted({c.regularization for c in configs} - {None})
    penalty = "".join(f"    {name!r}: {TORCH_PENALTY[name]},\n" for name in regs)
    data, batches = data_section(run), batches_section(run)
    parts = [
        f'"""Backprop Playground — {run.title}, in PyTorch (float64).\n\n'
        "Replays the run from step 0 with nn.Linear layers holding its step-0 weights, the "
        "same batches\nin the same order and torch.optim's equivalent of its optimizer; prints "
        'the loss E of every step.\n"""\n\n'
        "import math\n\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\n"
        "from torch import nn\n\ntorch.set_default_dtype(torch.float64)\n"
        "torch.set_num_threads(1)   # matrices this small only lose time to threads",
        f"{comment_block(data.title, data.text)}\n\n{data.code}",
        _start_code(run, g, E, penalty),
        OPTIMIZER_CODE,
        f"{comment_block(batches.title, batches.text)}\n\n{batches.code}",
        "optimizer = make_optimizer(cfg[\"optimizer\"])\nset_train_biases(cfg[\"train_biases\"])",
    ]
    if run.changes:
        parts.append(changes_code(run, lambda c: repr(asdict(c.value)) if c.kind == "step"
                                  else repr(c.value)))
    parts.append(_loop_code(run))
    return "\n\n\n".join(parts) + "\n"


def _start_code(run: Run, g: str, E: str, penalty: str) -> str:
    W = "".join(f"    {literal(run.W[k], '    ')},   # W[{k}]: ({run.sizes[k - 1]}, "
                f"{run.sizes[k]})\n" for k in range(1, run.L + 1))
    b = "".join(f"    {literal(run.b[k])},   # b[{k}]\n" for k in range(1, run.L + 1))
    return (
        "# Step 0: the network as the run started; W[k][i, j] = w_ij^k.\n"
        f"sizes = {list(run.sizes)!r}\nactivations = {list(run.activations)!r}\n"
        f"W = [\n    None,\n{W}]\nb = [\n    None,\n{b}]\n"
        "layers = nn.ModuleList(nn.Linear(m, n) for m, n in zip(sizes, sizes[1:]))\n"
        "with torch.no_grad():\n"
        "    for k, layer in enumerate(layers, start=1):\n"
        "        layer.weight.copy_(torch.from_numpy(W[k].T))   # (n_k, n_{k-1})\n"
        "        layer.bias.copy_(torch.from_numpy(b[k]))\n"
        f"cfg = {asdict(run.step)!r}\n\n"
        f"g = {{\n{g}}}\nLOSS = {{\n{E}}}\nPENALTY = {{\n{penalty}}}\n\n\n"
        "def forward(X):\n"
        "    o = X                                     # o^0\n"
        "    for k, layer in enumerate(layers, start=1):\n"
        "        a = layer(o)                          # a^k = o^{k-1} W^k + b^k\n"
        "        o = g[activations[k - 1]](a)           # o^k = g_k(a^k)\n"
        "    return a, o\n\n\n"
        "def loss(a, o, Y):\n"
        "    E = LOSS[cfg[\"loss\"]](a, o, Y)\n"
        "    if cfg[\"regularization\"] is not None:   # on the weights only, never the biases\n"
        "        lam = cfg[\"regularization_rate\"]\n"
        "        E = E + sum(PENALTY[cfg[\"regularization\"]](layer.weight, lam) "
        "for layer in layers)\n"
        "    return E"
    )


def _loop_code(run: Run) -> str:
    return (
        "# The run: each step the next batch, forward, E, backward (autograd), the update.\n"
        + loop_head(run, APPLY) +
        "    X, Y = torch.from_numpy(X_train[rows]), torch.from_numpy(Y_train[rows])\n"
        "    optimizer.zero_grad()\n"
        "    a, o = forward(X)\n"
        "    E = loss(a, o, Y)\n"
        "    E.backward()                                # δ^k and ∂E/∂W^k, ∂E/∂b^k by autograd\n"
        "    print(f\"{len(losses):6d}  {E.item()!r}\")\n"
        "    losses.append(E.item())\n"
        "    if not math.isfinite(E.item()):             # the engine keeps θ and waits for "
        "an edit\n"
        "        diverged = True\n"
        "        continue\n"
        "    optimizer.step()\n"
        "    cursor += len(rows)"
    )
