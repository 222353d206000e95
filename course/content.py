"""Typed, immutable course content: what the loader produces and every app reads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a content file, reported as `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Correction:
    """Course text that was wrong, shown corrected with a short note.

    Learners see the corrected text and "Corrected from the original course text: <note>";
    `original` keeps the replaced words in the content file, for instructors and for the
    comparison with the course's source text.
    """

    where: str  # "prompt", "explanation.correct", "definition", "body", ...
    original: str
    note: str
    line: int = 1  # of the correction in its file


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    correct: bool
    feedback: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    prompt: str
    options: tuple[Option, ...]
    explanation_correct: str
    explanation_incorrect: str
    corrections: tuple[Correction, ...] = ()

    def correction(self, where: str) -> Correction | None:
        return next((c for c in self.corrections if c.where == where), None)

    @property
    def prompt_correction(self) -> Correction | None:
        return self.correction("prompt")

    @property
    def correct_option(self) -> Option:
        return next(option for option in self.options if option.correct)

    def option(self, option_id: str) -> Option | None:
        return next((option for option in self.options if option.id == option_id), None)


@dataclass(frozen=True)
class Quiz:
    """A lesson quiz (slug = its lesson's slug) or the module test (slug = "test")."""

    slug: str
    title: str
    questions: tuple[Question, ...]
    is_test: bool = False
    path: str = ""  # relative to the content root, for messages

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    definition: str
    correction: Correction | None = None


@dataclass(frozen=True)
class Lesson:
    slug: str
    number: int
    title: str
    tagline: str
    hook: str
    body: str  # markdown, without front matter
    glossary: tuple[GlossaryEntry, ...]
    path: str  # relative to the content root, for messages
    body_line: int  # line of the body's first line in the file
    corrections: tuple[Correction, ...] = ()  # glossary and body, in file order


@dataclass(frozen=True)
class Coach:
    name: str
    persona: str
    questions: tuple[str, ...]  # general coaching questions
    # Coaching questions per lesson section, by the section's heading (`##` or `###`).
    section_questions: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def questions_for(self, *headings: str) -> tuple[str, ...]:
        """The questions written for the first of `headings` that has some (case ignored)."""
        by_heading = {heading.casefold(): qs for heading, qs in self.section_questions}
        for heading in headings:
            found = by_heading.get(heading.strip().casefold())
            if found:
                return found
        return ()


@dataclass(frozen=True)
class Lab:
    slug: str
    number: int
    lesson: str  # lesson slug the coach is grounded in
    title: str
    subtitle: str
    mission: str
    opener: str
    greeting: str
    coach: Coach


@dataclass(frozen=True)
class BrokenFile:
    """A file that failed to load; its page shows the problems, the others keep working."""

    path: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Module:
    slug: str
    number: int
    title: str
    summary: str
    pass_mark: int
    folder: str
    version: str  # hash of every file's bytes: stored with attempts
    lessons: tuple[Lesson, ...]
    quizzes: dict[str, Quiz]  # by lesson slug
    test: Quiz | None
    labs: tuple[Lab, ...]
    problems: tuple[Problem, ...] = ()
    broken: dict[str, BrokenFile] = field(default_factory=dict)  # by expected slug or file stem

    def lesson(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    def lab(self, slug: str) -> Lab | None:
        return next((lab for lab in self.labs if lab.slug == slug), None)

    def lab_for_lesson(self, lesson_slug: str) -> Lab | None:
        return next((lab for lab in self.labs if lab.lesson == lesson_slug), None)

    def neighbours(self, slug: str) -> tuple[Lesson | None, Lesson | None]:
        slugs = [lesson.slug for lesson in self.lessons]
        if slug not in slugs:
            return None, None
        index = slugs.index(slug)
        previous = self.lessons[index - 1] if index > 0 else None
        following = self.lessons[index + 1] if index + 1 < len(self.lessons) else None
        return previous, following

    def corrections(self) -> list[tuple[str, Correction]]:
        """(file path, correction) for every correction learners see, in course order."""
        found = [(lesson.path, c) for lesson in self.lessons for c in lesson.corrections]
        for quiz, question in self.all_questions():
            found += [(quiz.path, c) for c in question.corrections]
        return found

    def all_questions(self) -> list[tuple[Quiz, Question]]:
        quizzes = list(self.quizzes.values()) + ([self.test] if self.test else [])
        return [(quiz, question) for quiz in quizzes for question in quiz.questions]
