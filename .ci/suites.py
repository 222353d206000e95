"""Run the test suites one after another and print one summary line per suite.

    python .ci/suites.py                 # every suite
    python .ci/suites.py e2e scaled      # some of them

Suites: unit (unit + integration on SQLite), e2e (Chromium journeys), scaled (two workers on
PostgreSQL + Redis), postgres (the unit suite again on PostgreSQL). A suite whose service is
missing is reported as skipped with the reason; with CI=true that is a failure. A suite that
collects no tests (pytest exit code 5) is a failure: a suite exists to run tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "artifacts"
sys.path.insert(0, str(REPO))

from tests.scaled.services import (  # noqa: E402
    postgres_problem,
    redis_problem,
    suite_postgres_url,
)

NO_TESTS = 5


@dataclass
class Suite:
    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    needs: Callable[[], str | None] = lambda: None  # the reason it cannot run, or None


@dataclass
class Outcome:
    suite: str
    ok: bool
    line: str
    extras: list[str] = field(default_factory=list)


def suites() -> list[Suite]:
    regular = ["-m", "not e2e and not scaled"]
    return [
        # `postgres` tests need PostgreSQL's own behaviour: the postgres suite runs them.
        Suite("unit", ["-m", "not e2e and not scaled and not postgres"]),
        Suite("e2e", ["-m", "e2e", "tests/e2e"]),
        Suite("scaled", ["-m", "scaled", "tests/scaled"]),
        Suite(
            "postgres",
            regular,
            env={"DATABASE_URL": suite_postgres_url()},
            needs=lambda: postgres_problem(suite_postgres_url()),
        ),
    ]


def counts(junit: Path) -> dict[str, int]:
    root = ET.parse(junit).getroot()
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
    totals["passed"] = totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    return totals


def measurements(junit: Path) -> list[str]:
    """Figures the tests recorded with `record_property` (e.g. the scaled 429 counts)."""
    root = ET.parse(junit).getroot()
    lines = []
    for case in root.iter("testcase"):
        for prop in case.iter("property"):
            lines.append(f"{case.get('name')}: {prop.get('name')} = {prop.get('value')}")
    return lines


def run(suite: Suite, ci: bool) -> Outcome:
    problem = suite.needs()
    if problem:
        verdict = "FAILED (CI=true requires it)" if ci else "skipped"
        return Outcome(suite.name, not ci, f"{suite.name}: {verdict}: {problem}")
    ARTIFACTS.mkdir(exist_ok=True)
    junit = ARTIFACTS / f"junit-{suite.name}.xml"
    junit.unlink(missing_ok=True)
    print(f"\n=== suite {suite.name}: pytest {' '.join(suite.args)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}", *suite.args],
        cwd=REPO,
        env={**os.environ, **suite.env},
    )
    seconds = time.monotonic() - started
    if code == NO_TESTS:
        return Outcome(suite.name, False, f"{suite.name}: FAILED: no tests were collected")
    if not junit.exists():
        return Outcome(suite.name, False, f"{suite.name}: FAILED: pytest exited with {code}")
    n = counts(junit)
    skipped_in_ci = ci and n["skipped"] > 0
    ok = code == 0 and not skipped_in_ci
    line = (
        f"{suite.name}: {'ok' if ok else 'FAILED'}: {n['passed']} passed, "
        f"{n['failures']} failed, {n['errors']} errors, {n['skipped']} skipped in {seconds:.0f} s"
    )
    if skipped_in_ci:
        line += " (CI=true: a skip is a failure)"
    return Outcome(suite.name, ok, line, measurements(junit))


def main(argv: list[str]) -> int:
    ci = os.environ.get("CI") == "true"
    chosen = [s for s in suites() if not argv or s.name in argv]
    unknown = set(argv) - {s.name for s in suites()}
    if unknown:
        print(f"unknown suite(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    # The scaled suite reports its own missing services (skip, or fail under CI) from its
    # conftest; printing them here too makes the reason visible in the summary.
    notes = [p for p in (postgres_problem(), redis_problem()) if p]
    outcomes = [run(suite, ci) for suite in chosen]
    print("\n=== summary")
    for outcome in outcomes:
        print(outcome.line)
        for extra in outcome.extras:
            print(f"    {extra}")
    for note in notes:
        print(f"note: {note}")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
