"""Several instances behind nginx, Redis between them: the bus, the shared state and the
clustered versions of the loop's parts (loaded only with BACKPROP_REDIS_URL)."""
