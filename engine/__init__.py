"""Pure NumPy backpropagation engine: networks, losses, optimizers, data sets, traces."""
