"""Runs on the event loop only: the hub that drives the workers, the session store, feeds and
their fan-out, sockets, connection and rate limits, races' scheduling."""
