"""Find module folders, load them once per change, and run the checks that span files."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

from django.conf import settings

from course.content import BrokenFile, Lab, Lesson, Module, Problem, Quiz
from course.loader import (
    display_path,
    load_lab,
    load_lesson,
    load_module_meta,
    load_quiz,
    section_headings,
)
from course.markdown_checks import check_markdown

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[tuple[str, int, int], ...], Module]] = {}


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file's (path, mtime, size): cheap enough to check on each request (os.scandir)."""
    entries: list[tuple[str, int, int]] = []
    pending = [str(folder)]
    while pending:
        with os.scandir(pending.pop()) as scan:
            for entry in scan:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file():
                    stat = entry.stat()
                    entries.append((entry.path, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


def _version(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".md", ".yaml", ".yml"}:
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _duplicates(items: list[tuple[str, str, int]], what: str) -> list[Problem]:
    seen: dict[str, tuple[str, int]] = {}
    problems = []
    for key, path, line in items:
        if key in seen:
            first_path, first_line = seen[key]
            problems.append(
                Problem(
                    path,
                    line,
                    f"duplicate {what} '{key}' (first used at {first_path}:{first_line})",
                )
            )
        else:
            seen[key] = (path, line)
    return problems


def load_module(folder: Path) -> Module:
    """Load every file of one module folder; never raises for a content problem."""
    root = folder.parent
    problems: list[Problem] = []
    broken: dict[str, BrokenFile] = {}
    meta, meta_problems = load_module_meta(folder / "module.yaml", root)
    problems += meta_problems

    lessons: list[Lesson] = []
    for path in sorted((folder / "lessons").glob("*.md")):
        lesson, found = load_lesson(path, root)
        problems += found
        if lesson is not None and not found:
            lessons.append(lesson)
        else:
            key = lesson.slug if lesson is not None else path.stem.split("-", 1)[-1]
            broken[key] = BrokenFile(display_path(path, root), tuple(found))
            logger.error(
                "lesson file failed to load",
                extra={"path": str(path), "problems": [str(p) for p in found]},
            )
    lessons.sort(key=lambda lesson: lesson.number)
    lesson_broken = bool(broken)

    quizzes: dict[str, Quiz] = {}
    question_ids: list[tuple[str, str, int]] = []
    quiz_files = sorted((folder / "quizzes").glob("*.yaml"))
    test_path = folder / "test.yaml"
    for path in [*quiz_files, *([test_path] if test_path.exists() else [])]:
        quiz, found, lines = load_quiz(path, root, is_test=path == test_path)
        problems += found
        rel = display_path(path, root)
        question_ids += [(qid, rel, line) for qid, line in lines.items()]
        if quiz is not None and not found:
            quizzes[quiz.slug] = quiz
        else:
            broken["test" if path == test_path else path.stem.split("-", 1)[-1]] = BrokenFile(
                rel, tuple(found)
            )
    test = quizzes.pop("test", None)

    labs: list[Lab] = []
    headings = (
        None
        if lesson_broken
        else {h.casefold() for lesson in lessons for h in section_headings(lesson.body)}
    )
    for path in sorted((folder / "labs").glob("*.yaml")):
        lab, found = load_lab(path, root, headings)
        problems += found
        if lab is not None and not found:
            labs.append(lab)
        else:
            broken[path.stem.split("-", 1)[-1]] = BrokenFile(display_path(path, root), tuple(found))
    labs.sort(key=lambda lab: lab.number)

    lesson_slugs = {lesson.slug for lesson in lessons} | set(broken)
    problems += _duplicates([(lesson.slug, lesson.path, 2) for lesson in lessons], "lesson slug")
    problems += _duplicates(
        [(str(lesson.number), lesson.path, 3) for lesson in lessons], "lesson number"
    )
    problems += _duplicates(question_ids, "question id")
    problems += _duplicates([(lab.slug, "labs", 1) for lab in labs], "lab slug")
    for slug, quiz in quizzes.items():
        if slug not in lesson_slugs:
            problems.append(
                Problem(
                    f"{folder.name}/quizzes",
                    1,
                    f"quiz '{quiz.title}' names an unknown lesson '{slug}'",
                )
            )
    for lab in labs:
        if lab.lesson not in lesson_slugs:
            problems.append(
                Problem(
                    f"{folder.name}/labs",
                    1,
                    f"lab '{lab.slug}' names an unknown lesson '{lab.lesson}'",
                )
            )
    targets = {
        "lesson": {lesson.slug for lesson in lessons},
        "quiz": set(quizzes),
        "lab": {lab.slug for lab in labs},
        "test": {""},
    }
    for lesson in lessons:
        for link in check_markdown(lesson.body, lesson.path, lesson.body_line, []):
            scheme, _, target = link.href.partition(":")
            if target.partition("#")[0] not in targets[scheme]:
                problems.append(
                    Problem(
                        link.path,
                        link.line,
                        f"broken link '{link.href}': no {scheme} '{target}' in this module",
                    )
                )

    return Module(
        slug=str(meta.get("slug", folder.name)),
        number=int(str(meta.get("number", 0))),
        title=str(meta.get("title", folder.name)),
        summary=str(meta.get("summary", "")),
        pass_mark=int(str(meta.get("pass_mark", 80))),
        folder=folder.name,
        version=_version(folder),
        lessons=tuple(lessons),
        quizzes=quizzes,
        test=test,
        labs=tuple(labs),
        problems=tuple(sorted(set(problems), key=lambda p: (p.path, p.line, p.message))),
        broken=broken,
    )


def module_folders(content_dir: Path | None = None) -> list[Path]:
    root = Path(content_dir or settings.CONTENT_DIR)
    with os.scandir(root) as scan:
        folders = [
            Path(e.path) for e in scan if e.is_dir() and os.path.isfile(f"{e.path}/module.yaml")
        ]
    return sorted(folders)


def get_modules(content_dir: Path | None = None) -> list[Module]:
    """Every module, reloaded only when one of its files changed (mtime or size)."""
    modules = []
    for folder in module_folders(content_dir):
        signature = _signature(folder)
        cached = _cache.get(folder)
        if cached is None or cached[0] != signature:
            with _lock:
                cached = _cache.get(folder)
                if cached is None or cached[0] != signature:
                    module = load_module(folder)
                    for problem in module.problems:
                        logger.warning("content problem: %s", problem)
                    cached = (signature, module)
                    _cache[folder] = cached
        modules.append(cached[1])
    return sorted(modules, key=lambda module: module.number)


def get_module(slug: str) -> Module | None:
    return next((module for module in get_modules() if module.slug == slug), None)
