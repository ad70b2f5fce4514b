"""A session's loss history: every step while short, thinned by halves when long.

Memory stays bounded however long a session plays; `values[i]` is the loss before step
`i * stride`.
"""


class LossLog:
    def __init__(self, cap: int):
        self.cap = cap
        self.values: list[float] = []
        self.stride = 1
        self.count = 0  # steps logged so far

    def extend(self, losses: list[float]) -> None:
        stride, count = self.stride, self.count
        first = (-count) % stride  # index of the first loss on the stride
        self.values.extend(losses[first::stride])
        self.count = count + len(losses)
        while len(self.values) > self.cap:
            self.values = self.values[::2]
            self.stride *= 2

    def since(self, start: int) -> tuple[int, list[float]]:
        """(first step, values) of the logged losses from step `start` on."""
        index = -(-start // self.stride)
        return index * self.stride, self.values[index:]

    def clear(self) -> None:
        self.values, self.stride, self.count = [], 1, 0
