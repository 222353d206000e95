from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from course.registry import load_module, module_folders


class Command(BaseCommand):
    help = "Validate course content; print one `path:line: message` per problem."
    # Content is checked on its own, even while an unrelated part of the project is broken.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--content-dir", type=Path, help="Folder holding module folders.")
        parser.add_argument(
            "--corrections",
            action="store_true",
            help="Also list every correction of the course text that learners see, with its note.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folders = module_folders(options.get("content_dir"))
        if not folders:
            raise CommandError("No module folders (a folder with a module.yaml) were found.")
        count = 0
        for folder in folders:
            module = load_module(folder)
            for problem in module.problems:
                self.stdout.write(str(problem))
                count += 1
            if options.get("corrections"):
                for path, correction in module.corrections():
                    self.stdout.write(
                        f"{path}:{correction.line}: correction ({correction.where}): "
                        f"{correction.note}"
                    )
            if not module.problems:
                self.stdout.write(
                    f"{folder.name}: {len(module.lessons)} lessons, {len(module.quizzes)} quizzes, "
                    f"{len(module.test.questions) if module.test else 0} test questions, "
                    f"{len(module.labs)} labs: OK"
                )
        if count:
            raise CommandError(f"{count} content problem{'s' if count != 1 else ''} found.")
