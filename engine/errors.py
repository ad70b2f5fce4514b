"""The engine's one error type: bad shapes, unknown names, impossible pairings."""


class EngineError(ValueError):
    """Raised for any invalid network, loss, optimizer or data set request."""
