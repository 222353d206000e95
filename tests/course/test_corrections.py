"""Corrected course text: learners see the correction and its note, never the original; the
original stays in the file; a malformed correction is a content problem with its line."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from course.markdown_parser import callout_title, make_parser
from course.registry import get_module, load_module
from labs.coach import system_prefix
from tests.conftest import REPO

NOTE = "Corrected from the original course text:"
LESSON_1 = reverse("lesson", args=["production-patterns", "rate-limiting-and-retry"])


@pytest.fixture
def real_module(settings):
    settings.CONTENT_DIR = REPO / "content"
    module = get_module("production-patterns")
    assert module is not None
    return module


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_a_lesson_shows_each_body_correction_with_its_note_and_never_the_original(
    anon_client, real_module
):
    lesson = real_module.lesson("rate-limiting-and-retry")
    text = page(anon_client, LESSON_1)

    body = [c for c in lesson.corrections if c.where == "body"]
    assert len(body) == 6
    for correction in body:
        assert correction.original not in text
        assert correction.original not in lesson.body
    assert text.count('<div class="correction">') == len(body)
    assert text.count(NOTE) == len(lesson.corrections)  # the glossary's TPM entry too
    assert "the API sends `anthropic-ratelimit-*`" not in text  # the note is rendered markdown
    assert "x-ratelimit-remaining-requests: 0" not in text
    assert "anthropic-ratelimit-input-tokens-remaining" in text


def test_the_glossary_shows_a_corrected_definition_with_its_note(anon_client, real_module):
    text = page(anon_client, LESSON_1)
    glossary = text[text.index('id="glossary-title"') :]
    assert "separate per-minute limits" in glossary
    assert "against a rolling window" not in glossary
    assert (
        f'<small class="correction-note"><span class="correction-label">{NOTE}</span>' in glossary
    )


def test_the_course_s_account_is_marked_as_such(anon_client, real_module):
    text = page(anon_client, LESSON_1)
    story = text[text.index('<div class="account">') :]
    assert story.index("In March 2023") < story.index("The course's account:")
    lesson_2 = reverse("lesson", args=["production-patterns", "cost-control-and-token-budgeting"])
    tip = page(anon_client, lesson_2)
    assert tip.index("Stripe's API team") < tip.rindex("not from a published source")


def test_a_corrected_prompt_and_explanation_show_their_notes_on_the_quiz(
    learner_client, real_module
):
    url = reverse("quiz", args=["production-patterns", "streaming-timeouts-and-async"])
    before = page(learner_client, url)
    assert "`asyncio.gather()`" not in before and "<code>asyncio.gather()</code>" in before
    assert "which does not exist" in before and NOTE in before
    assert "AsyncAnthropic.gather()?" not in before

    question = real_module.quizzes["streaming-timeouts-and-async"].question("streaming-ux-benefit")
    answered = html.unescape(
        learner_client.post(
            url, {"question": question.id, "option": question.correct_option.id}, follow=True
        ).content.decode()
    )
    assert question.explanation_correct in answered
    assert "Research showed" not in answered
    assert "the course has no published source" in answered


def test_an_explanation_without_a_correction_shows_no_note(learner_client, real_module):
    url = reverse("quiz", args=["production-patterns", "rate-limiting-and-retry"])
    answered = html.unescape(
        learner_client.post(
            url, {"question": "why-jitter", "option": "faster-retries"}, follow=True
        ).content.decode()
    )
    feedback = answered[answered.index('id="q-why-jitter-feedback"') :]
    assert "Jitter's purpose is client desynchronization." in feedback
    assert NOTE not in feedback[: feedback.index("</div>")]


def test_the_coach_is_never_told_the_original_text(real_module):
    for lab in real_module.labs:
        lesson = real_module.lesson(lab.lesson)
        prompt = system_prefix(lab, lesson)
        for correction in lesson.corrections:
            if correction.where == "body":
                assert correction.original not in prompt
        assert "x-ratelimit-remaining-requests: 0" not in prompt


def test_blanking_an_original_keeps_every_line_number(real_module):
    for lesson in real_module.lessons:
        path = REPO / "content" / "module-08-production-patterns" / "lessons"
        source = next(path.glob(f"*{lesson.slug}.md")).read_text(encoding="utf-8")
        body_lines = source.splitlines()[lesson.body_line - 1 :]
        assert len(lesson.body.splitlines()) == len(body_lines)


def problems(folder: Path) -> list[str]:
    return [str(problem) for problem in load_module(folder).problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


LESSON_BREAKAGES = [
    pytest.param(
        "::: correction\nWait and retry.\n\n~~~original\nRetry at once.\n~~~\n:::",
        "27: a correction needs a note: `::: correction <what was wrong>`",
        id="no-note",
    ),
    pytest.param(
        "::: correction it said to retry at once\nWait and retry.\n:::",
        "27: a correction needs one `~~~original` block holding the text it replaces",
        id="no-original",
    ),
    pytest.param(
        "Wait and retry.\n\n~~~original\nRetry at once.\n~~~",
        "29: an `original` block belongs inside a `::: correction`",
        id="stray-original",
    ),
]


@pytest.mark.parametrize(("markdown", "problem"), LESSON_BREAKAGES)
def test_a_malformed_lesson_correction_is_reported_with_its_line(sample_content, markdown, problem):
    lesson = sample_content / "lessons" / "01-first.md"
    edit(lesson, "::: principle", f"{markdown}\n\n::: principle")
    assert f"{sample_content.name}/lessons/01-first.md:{problem}" in problems(sample_content)


QUIZ_BREAKAGES = [
    pytest.param(
        "text: Correct. It says how long to wait.\n        original: Correct. Wait.",
        "19: question 'header-on-429': explanation.correct (a correction) is missing the key "
        "'note'",
        id="no-note",
    ),
    pytest.param(
        "text: Correct. It says how long to wait.\n        original: Correct. It says how long "
        "to wait.\n        note: it was wrong",
        "19: question 'header-on-429': explanation.correct: the corrected text is the same as "
        "the original",
        id="unchanged",
    ),
    pytest.param(
        "text: Correct. It says how long to wait.\n        original: Correct. Wait.\n        "
        "note: it was vague\n        source: the seed",
        "22: question 'header-on-429': explanation.correct (a correction) has an unknown key "
        "'source' (allowed: note, original, text)",
        id="unknown-key",
    ),
]


@pytest.mark.parametrize(("correction", "problem"), QUIZ_BREAKAGES)
def test_a_malformed_yaml_correction_is_reported_with_its_line(sample_content, correction, problem):
    quiz = sample_content / "quizzes" / "01-first.yaml"
    edit(quiz, "correct: Correct. It says how long to wait.", f"correct:\n        {correction}")
    assert f"{sample_content.name}/quizzes/01-first.yaml:{problem}" in problems(sample_content)


def test_a_well_formed_yaml_correction_loads_with_its_original_and_note(sample_content):
    quiz = sample_content / "quizzes" / "01-first.yaml"
    edit(
        quiz,
        "correct: Correct. It says how long to wait.",
        "correct:\n        text: Correct. It says how long to wait.\n"
        "        original: Correct. Wait.\n        note: it did not say how long",
    )
    module = load_module(sample_content)
    question = module.quizzes["first"].question("header-on-429")
    correction = question.correction("explanation.correct")
    assert question.explanation_correct == "Correct. It says how long to wait."
    assert (correction.original, correction.note, correction.line) == (
        "Correct. Wait.",
        "it did not say how long",
        19,
    )
    assert module.corrections() == [(f"{sample_content.name}/quizzes/01-first.yaml", correction)]


ANECDOTES = ("Stripe", "Notion", "March 2023", "In 2023", "November 2022", "DynamoDB")


def test_every_anecdote_in_a_lesson_is_marked_as_the_course_s_account(real_module):
    parser = make_parser()
    found = set()
    for lesson in real_module.lessons:
        kinds: list[str] = []
        for token in parser.parse(lesson.body):
            if token.type == "container_callout_open":
                kinds.append(callout_title(token.info)[0])
            elif token.type == "container_callout_close":
                kinds.pop()
            elif token.type == "inline":
                named = {name for name in ANECDOTES if name in token.content}
                assert not named or "account" in kinds, f"{lesson.slug}: {token.content[:60]}"
                found |= named
    assert found == set(ANECDOTES)


def test_no_coach_or_question_states_an_anecdote_as_fact(real_module):
    for lab in real_module.labs:
        assert not [name for name in ANECDOTES if name in lab.coach.persona]
        assert "the course's account" in lab.coach.persona
        assert "Never present them as fact" in lab.coach.persona
    for _, question in real_module.all_questions():
        shown = [question.prompt, question.explanation_correct, question.explanation_incorrect]
        shown += [option.text + option.feedback for option in question.options]
        assert not [name for name in (*ANECDOTES, "Research showed") if name in " ".join(shown)]


def test_check_content_lists_every_correction_for_instructors(sample_content, capsys):
    edit(
        sample_content / "quizzes" / "01-first.yaml",
        "correct: Correct. It says how long to wait.",
        "correct:\n        text: Correct. It says how long to wait.\n"
        "        original: Correct. Wait.\n        note: it did not say how long",
    )
    call_command("check_content", content_dir=sample_content.parent, corrections=True)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{sample_content.name}/quizzes/01-first.yaml:19: correction (explanation.correct): "
        "it did not say how long",
        f"{sample_content.name}: 2 lessons, 1 quizzes, 1 test questions, 1 labs: OK",
    ]
