"""What a benchmark reads about a server process and the machine, straight from /proc."""

from __future__ import annotations

import os
import platform
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of one process, in bytes."""
    resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return resident_pages * _PAGE


def run_queue_wait(pid: int) -> float:
    """Seconds the process's threads have spent runnable but waiting for a CPU.

    On a shared machine this is the time other work took from the server: latency that grows
    with it is contention, not the server's own cost.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended between listing and reading
    return total / 1e9


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_lines() -> list[str]:
    """A few lines naming the machine, its core count and how busy it was at the start."""
    cores = os.cpu_count() or 0
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"machine: {cores} cores ({_cpu_model()}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        f"load average at start (1/5/15 min): {load}; other work may be running on this "
        "machine, so absolute figures are noisy: read the ratios measured in this run",
    ]


def main_thread_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process's main thread (the event loop of an ASGI server)."""
    stat = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS
