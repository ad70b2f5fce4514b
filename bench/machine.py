"""What benchmarks print beside their figures: how stalled the machine's CPU was, and the
CPU time and memory of processes, read from /proc."""

import math
import os
import statistics
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def pressure() -> str:
    """/proc/pressure/cpu's `some` avg10 and avg60: the share of time runnable work waited."""
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0].split()
    except OSError:
        return "unavailable"
    return " ".join(f for f in some if f.startswith(("avg10", "avg60")))


def stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds user+sys) of a process; None once it has gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the name in () may hold spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid: int) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return math.nan
    return next((int(x.split()[1]) / 1024 for x in lines if x.startswith("VmRSS:")), math.nan)


def command_line(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    except OSError:
        return "?"
    return " ".join([Path(argv[0]).name, *argv[1:]]).strip()[:70]


def family(root: int) -> list[int]:
    """`root` and all its descendants, found through the parent pid in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := stat(int(entry.name))):
            children.setdefault(found[0], []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pids.append(todo.pop())
        todo.extend(children.get(pids[-1], []))
    return pids


def snapshot(pids: list[int]) -> dict[int, tuple[float, float, float, str]]:
    """pid -> (time, CPU seconds, RSS MiB, command line)."""
    return {
        p: (time.monotonic(), s[1], rss_mib(p), command_line(p)) for p in pids if (s := stat(p))
    }


def machine_busy() -> float:
    """CPU seconds all processes of the machine have used (/proc/stat: all but idle, iowait)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICK


def family_rss(root: int) -> float:
    """MiB of resident memory of `root` and all its descendants (a server and its workers)."""
    return sum(rss_mib(pid) for pid in family(root))


def timed(run, repeats: int) -> float:
    """Median seconds of `run()` over `repeats` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
