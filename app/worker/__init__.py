"""Runs in a worker process only: its sessions, their frames and bytes, loss and chart logs,
costs, graphs, race lanes."""
