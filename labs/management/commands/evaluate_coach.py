from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from course.registry import get_modules
from labs.coaching.evaluation import score
from labs.offline import offline_responder


class Command(BaseCommand):
    help = "Score the offline coach on its evaluation set; print the score per kind of message."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--show",
            choices=("wrong", "all", "none"),
            default="wrong",
            help="Which replies to print under the scores (default: the wrong ones).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        modules = [m for m in get_modules() if m.labs]
        if not modules:
            raise CommandError("No module with labs was found under CONTENT_DIR.")
        report = score(modules[0], offline_responder, str(settings.COACH_MODEL))
        for line in report.lines():
            self.stdout.write(line)
        show = options["show"]
        for result in report.results:
            if show == "all" or (show == "wrong" and not result.right):
                case = result.case
                before = f" (after {list(case.before)})" if case.before else ""
                verdict = "right" if result.right else f"WRONG: {result.why}"
                self.stdout.write(f"\n[{case.lab} · {case.kind}] {case.message}{before}\n{verdict}")
                if not result.right:
                    self.stdout.write("    " + result.reply.replace("\n", "\n    "))
        if not report.met():
            raise CommandError("The offline coach misses a target.")
