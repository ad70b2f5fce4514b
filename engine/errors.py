"""The engine's one error type: bad shapes, unknown names, impossible pairings."""


class EngineError(ValueError):
    """Raised for any invalid network, loss, optimizer or data set request.

    `field` names what was wrong in the API's terms ("loss", "optimizer.name", "points");
    None where no one field is to blame. The app answers 422 at that field.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    def __reduce__(self):   # a worker's error crosses a process boundary with its field
        return type(self), (str(self), self.field)
