"""What every benchmark prints beside its figures: how stalled the machine's CPU was."""

from pathlib import Path


def pressure() -> str:
    """/proc/pressure/cpu's `some` avg10 and avg60: the share of time runnable work waited."""
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0].split()
    except OSError:
        return "unavailable"
    return " ".join(f for f in some if f.startswith(("avg10", "avg60")))
