"""Fail unless the running environment holds exactly the packages `requirements.lock` pins.

    python .ci/lock_check.py

pip and setuptools (the venv's own seed) are left out; names are compared normalised.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"
SEED = {"pip", "setuptools"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[normalise(match.group(1))] = match.group(2)
    return pins


def installed() -> dict[str, str]:
    found = {normalise(d.metadata["Name"]): d.version for d in metadata.distributions()}
    return {name: version for name, version in found.items() if name not in SEED}


def main() -> int:
    want, have = locked(), installed()
    problems = [
        f"{name}: locked {want.get(name, '-')}, installed {have.get(name, '-')}"
        for name in sorted(want.keys() | have.keys())
        if want.get(name) != have.get(name)
    ]
    if problems:
        print("the environment differs from requirements.lock:", *problems, sep="\n  ")
        return 1
    print(f"lock check: the environment is exactly requirements.lock ({len(want)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
