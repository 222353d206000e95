"""The learner's path through a module, and the progress other apps report on it.

`course` cannot import `quizzes` or `labs` (they depend on it), so they register a provider
in their AppConfig.ready(); each provider returns a state per path step it knows: a plain
status line means the step is done, a `StepState` can say it is started but not finished.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse

from course.content import Module
from course.models import LessonRead


@dataclass(frozen=True)
class StepState:
    status: str
    done: bool = True  # False: started, not finished (a quiz half answered, a test not passed)


ProgressProvider = Callable[[AbstractBaseUser, Module], Mapping[str, "str | StepState"]]
_providers: list[ProgressProvider] = []


def register(provider: ProgressProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


@dataclass(frozen=True)
class Step:
    key: str  # "lesson:<slug>", "quiz:<slug>", "lab:<slug>", "test:"
    kind: str
    label: str  # "Lesson 1", "Quiz", "Lab 1", "Module test"
    title: str  # the lesson's, lab's or test's title; "Lesson 1 quiz" for a quiz
    url: str
    status: str = ""
    done: bool = False

    @property
    def started(self) -> bool:
        """Begun but not done: the map shows it as in progress."""
        return bool(self.status) and not self.done


def step_url(module: Module, key: str) -> str | None:
    kind, _, slug = key.partition(":")
    if kind == "lesson" and module.lesson(slug):
        return reverse("lesson", args=[module.slug, slug])
    if kind == "quiz" and slug in module.quizzes:
        return reverse("quiz", args=[module.slug, slug])
    if kind == "lab" and module.lab(slug):
        return reverse("lab", args=[module.slug, slug])
    if kind == "test" and module.test is not None:
        return reverse("module_test", args=[module.slug])
    return None


def read_lessons(user: AbstractBaseUser | AnonymousUser, module: Module) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(
        LessonRead.objects.filter(user_id=user.pk, module=module.slug).values_list(
            "lesson", flat=True
        )
    )


def _states(user: AbstractBaseUser | AnonymousUser, module: Module) -> dict[str, StepState]:
    states: dict[str, StepState] = {}
    if user.is_authenticated:
        for provider in _providers:
            for key, state in provider(user, module).items():
                states[key] = state if isinstance(state, StepState) else StepState(state)
    for slug in read_lessons(user, module):
        states[f"lesson:{slug}"] = StepState("Read")
    return states


def _step(module: Module, key: str, label: str, title: str, states: dict[str, StepState]) -> Step:
    state = states.get(key)
    return Step(
        key,
        key.partition(":")[0],
        label,
        title,
        step_url(module, key) or "",
        state.status if state else "",
        state.done if state else False,
    )


@dataclass(frozen=True)
class LessonBlock:
    """One lesson with the practice that belongs to it: its quiz and its lab."""

    lesson: Step
    quiz: Step | None
    lab: Step | None

    @property
    def steps(self) -> list[Step]:
        return [step for step in (self.lesson, self.quiz, self.lab) if step is not None]


@dataclass(frozen=True)
class CourseMap:
    blocks: list[LessonBlock]
    test: Step | None

    @property
    def steps(self) -> list[Step]:
        """Every step in path order: each lesson, its quiz, its lab; the module test last."""
        found = [step for block in self.blocks for step in block.steps]
        return found + ([self.test] if self.test else [])

    @property
    def done(self) -> int:
        return sum(1 for step in self.steps if step.done)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def percent(self) -> int:
        return self.done * 100 // self.total if self.total else 0

    @property
    def next_step(self) -> Step | None:
        """Where "Continue" leads: the first unfinished step after the furthest finished one
        (where the learner left off), else the first unfinished step; None when all are done."""
        steps = self.steps
        furthest = max((i for i, step in enumerate(steps) if step.done), default=-1)
        later = (step for step in steps[furthest + 1 :] if not step.done)
        earlier = (step for step in steps[: furthest + 1] if not step.done)
        return next(later, None) or next(earlier, None)


def course_map(module: Module, user: AbstractBaseUser | AnonymousUser) -> CourseMap:
    states = _states(user, module)
    blocks = []
    for lesson in module.lessons:
        name = f"Lesson {lesson.number}"
        quiz = module.quizzes.get(lesson.slug)
        lab = module.lab_for_lesson(lesson.slug)
        quiz_step = lab_step = None
        if quiz is not None:
            quiz_step = _step(module, f"quiz:{lesson.slug}", "Quiz", f"{name} quiz", states)
        if lab is not None:
            lab_step = _step(module, f"lab:{lab.slug}", f"Lab {lab.number}", lab.title, states)
        lesson_step = _step(module, f"lesson:{lesson.slug}", name, lesson.title, states)
        blocks.append(LessonBlock(lesson_step, quiz_step, lab_step))
    test = None
    if module.test is not None:
        test = _step(module, "test:", "Module test", module.test.title, states)
    return CourseMap(blocks, test)


def module_path(module: Module, user: AbstractBaseUser | AnonymousUser) -> list[Step]:
    """L1 · Quiz · Lab … Module Test, with the learner's status on each step."""
    return course_map(module, user).steps


@dataclass(frozen=True)
class ActivityLink:
    """A line on "My progress" contributed by another app (e.g. a lab conversation)."""

    section: str  # heading it is listed under, e.g. "Lab conversations"
    title: str
    url: str
    detail: str = ""


ActivityProvider = Callable[[AbstractBaseUser], list[ActivityLink]]
_activity_providers: list[ActivityProvider] = []


def register_activity(provider: ActivityProvider) -> None:
    if provider not in _activity_providers:
        _activity_providers.append(provider)


def activity(user: AbstractBaseUser) -> list[ActivityLink]:
    return [link for provider in _activity_providers for link in provider(user)]
