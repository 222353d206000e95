"""Sample a server with py-spy while a benchmark loads it, and say where the time went.

py-spy's raw output is one collapsed stack per line (`frame;frame;... count`, each frame
`function (file:line)`). The summary attributes each sample three ways: to a stage of a coach
turn (`STAGES`, the first that matches anywhere on the stack), to the package of the innermost
frame (self time), and to the innermost project frame (the project code that caused the work),
so that a reader sees both "the SDK parses SSE" and "because `resilient.stream` asked for it".
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*?)(?::\d+)?\)$")
PROJECT = ("labs/", "resilient/", "ops/", "course/", "config/", "bench/")
PACKAGES = (
    "anthropic",
    "httpx2",
    "httpcore",
    "pydantic",
    "channels",
    "daphne",
    "twisted",
    "autobahn",
    "uvicorn",
    "websockets",
    "django",
    "asgiref",
    "json",
    "asyncio",
    "sqlite3",
    "nh3",
    "markdown_it",
)


# First match wins, so the simulator (which runs under the SDK's transport) and the database
# (called from the resilient client's budget check) are counted before the SDK.
STAGES = (
    (
        "simulator (absent in production)",
        ("resilient/simulator/", "labs/offline.py", "labs/retrieval.py"),
    ),
    ("database", ("django/db/", "sqlite3/")),
    ("SDK + resilient client", ("anthropic/", "httpx2/", "resilient/")),
    ("final reply rendering", ("markdown_it/", "nh3", "labs/fragments.py", "django/template/")),
    ("waiting for events", ("EpollSelector.select", "KqueueSelector.select")),
)
OTHER_STAGE = "server + relay (websocket, channels, asyncio, labs)"


def stage(frames: list[str]) -> str:
    if frames and any(name in frames[-1] for name in STAGES[-1][1]):
        return STAGES[-1][0]
    for name, needles in STAGES[:-1]:
        if any(needle in frame for frame in frames for needle in needles):
            return name
    return OTHER_STAGE


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    """Start sampling `pid` for `seconds` in the background; None when py-spy is missing."""
    exe = py_spy()
    if exe is None:
        return None
    command = [
        exe,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "100",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(output),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _where(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame)
    if not match:
        return frame, ""
    return match["func"], match["file"]


def _package(path: str) -> str:
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    for prefix in PROJECT:
        if f"/{prefix}" in f"/{path}" or path.startswith(prefix):
            return prefix.rstrip("/")
    if "/lib/python" in path:
        return path.rsplit("/lib/python", 1)[1].split("/", 2)[1].removesuffix(".py")
    return path or "?"


def summarise(raw: Path, top: int = 12) -> list[str]:
    """Lines: total samples, share by package (self time), by first project frame, top leaves."""
    by_stage: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    by_caller: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        by_stage[stage(frames)] += count
        func, path = _where(frames[-1])
        by_package[_package(path)] += count
        leaves[f"{func} ({Path(path).name})"] += count
        caller = next(
            (
                f"{_where(f)[0]} ({_package(_where(f)[1])})"
                for f in reversed(frames)
                if _package(_where(f)[1]) in {p.rstrip("/") for p in PROJECT}
            ),
            "no project frame",
        )
        by_caller[caller] += count
    if not total:
        return ["profile: no samples"]

    def share(counter: Counter[str]) -> str:
        return ", ".join(f"{name} {n / total:.0%}" for name, n in counter.most_common(top))

    return [
        f"profile: {total} samples at 100 Hz, all threads ({raw})",
        f"  by stage of a turn: {share(by_stage)}",
        f"  self time by package: {share(by_package)}",
        f"  by innermost project frame: {share(by_caller)}",
        f"  hottest functions: {share(leaves)}",
    ]
