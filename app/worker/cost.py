"""What a request will cost, known from its sizes before any work starts.

A step's record holds, per example of its batch, the inputs, a, o and δ of every node and
the targets: its size bounds every answer that carries it (a session's state, /api/step).
A step's work is a few multiply-adds per weight per example (forward and back), so steps ×
batch × weights bounds a request's time. Both limits are settings (app/config.py).
"""

from engine.errors import EngineError


def record_values(layers: list[int], batch: int) -> int:
    return batch * (layers[0] + 3 * sum(layers[1:]) + layers[-1])


def weights(layers: list[int]) -> int:
    return sum(m * n for m, n in zip(layers, layers[1:], strict=False))


def largest_batch(settings, layers: list[int]) -> int:
    return settings.max_record_values // record_values(layers, 1)


def most_steps(settings, layers: list[int], batch: int) -> int:
    return max(1, settings.max_request_work // (batch * weights(layers)))


def batch_problem(settings, layers: list[int], batch: int) -> str | None:
    """Why a batch is too large for this network (its record unbounded), or None."""
    if record_values(layers, batch) <= settings.max_record_values:
        return None
    return (
        f"a batch of {batch} with layers {layers} makes a record of "
        f"{record_values(layers, batch):,} values (inputs, a, o and δ of every node, targets, "
        f"per example); at most {settings.max_record_values:,}: use a batch of at most "
        f"{largest_batch(settings, layers)}, or a smaller network"
    )


def steps_problem(settings, layers: list[int], batch: int, steps: int) -> str | None:
    """Why a request's steps would work too long (steps × batch × weights), or None."""
    if steps * batch * weights(layers) <= settings.max_request_work:
        return None
    return (
        f"{steps} steps of a batch of {batch} through {weights(layers):,} weights is more work "
        f"than one request may take; at most {most_steps(settings, layers, batch)} steps a "
        f"request here: take them in several requests"
    )


def check_session(settings, layers: list[int], batch: int, steps: int = 1) -> None:
    """EngineError (a 422 naming the field) when a session's batch or steps are too costly."""
    if problem := batch_problem(settings, layers, batch):
        raise EngineError(f"batch_size: {problem}", "batch_size")
    if problem := steps_problem(settings, layers, batch, steps):
        raise EngineError(f"steps: {problem}", "steps")


def check_stateless(settings, layers: list[int], rows: int, steps: int | None) -> None:
    """The same bounds for /api/step (steps) and /api/gradcheck (steps None: a central
    difference per weight, two forward passes over the rows each)."""
    if problem := batch_problem(settings, layers, rows):
        raise EngineError(
            f"inputs: {problem.replace('a batch of', f'{rows} rows as a batch')}", "inputs"
        )
    if steps is not None:
        if problem := steps_problem(settings, layers, rows, steps):
            raise EngineError(f"steps: {problem}", "steps")
        return
    work = 2 * weights(layers) * rows * weights(layers)
    if work > settings.max_request_work:
        most = max(1, settings.max_request_work // (2 * weights(layers) ** 2))
        raise EngineError(
            f"inputs: checking {weights(layers):,} weights by central differences on {rows} "
            f"rows is more work than one request may take; at most {most} rows here", "inputs"
        )
