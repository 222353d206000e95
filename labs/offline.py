"""The offline coach: answers from the course text when no API key is configured.

It plugs into the simulator as its responder, so an offline reply travels the same road as a
real one (SSE stream, faults, retries, usage, cost). For each message it quotes the passages
of the module's lessons that best match the learner's words, names the lesson, and ends with
one of the lab's coaching questions, so the learner still practises the conversation.
"""

from __future__ import annotations

import re
import threading

from course.content import Lab, Module
from course.registry import get_modules
from labs.retrieval import Hit, Passage, passages, rank
from resilient.simulator import MessagesRequest

QUOTE_CHARS = 320
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

_lock = threading.Lock()
_index: dict[tuple[str, str], list[Passage]] = {}


def module_passages(module: Module) -> list[Passage]:
    """Passages of a module's lessons, computed once per content version."""
    key = (module.slug, module.version)
    found = _index.get(key)
    if found is None:
        found = passages((ls.slug, ls.number, ls.title, ls.body) for ls in module.lessons)
        with _lock:
            _index[key] = found
    return found


def find_lab(system: str) -> tuple[Module, Lab] | None:
    """The lab whose coach persona the system prompt carries."""
    for module in get_modules():
        for lab in module.labs:
            if lab.coach.persona.strip() and lab.coach.persona.strip() in system:
                return module, lab
    return None


def excerpt(text: str, limit: int = QUOTE_CHARS) -> str:
    """Whole sentences from the start of `text`, at most `limit` characters (at least one)."""
    sentences = _SENTENCE_END.split(text)
    chosen = [sentences[0]]
    for sentence in sentences[1:]:
        if len(" ".join([*chosen, sentence])) > limit:
            break
        chosen.append(sentence)
    quote = " ".join(chosen)
    if len(quote) > limit * 2:
        quote = quote[: limit * 2].rsplit(" ", 1)[0] + " …"
    return quote


def coaching_question(lab: Lab, user_turns: int) -> str:
    """One of the lab's questions, a different one each turn."""
    questions = lab.coach.questions
    if not questions:
        return "What would you try first, and how would you know it worked?"
    return questions[(user_turns - 1) % len(questions)]


def compose(lab: Lab, hits: list[Hit], user_turns: int) -> str:
    """The reply as markdown: quoted passages with their lesson, then one coaching question."""
    question = coaching_question(lab, user_turns)
    if not hits:
        return (
            "I could not find that in the course text, so I will not guess. "
            f"This lab is about *{lab.title}*: {lab.mission}\n\n{question}"
        )
    parts = ["Here is what the course says about that."]
    for hit in hits:
        p = hit.passage
        where = f"[Lesson {p.lesson_number}: {p.lesson_title}](lesson:{p.lesson_slug})"
        if p.section:
            where += f", *{p.section}*"
        parts.append(f"From {where}:\n\n> {excerpt(p.text)}")
    parts.append("Apply it to your own numbers before you settle on a design.")
    parts.append(question)
    return "\n\n".join(parts)


def offline_responder(request: MessagesRequest) -> str:
    """Simulator responder: the offline coach's whole reply to the last user message."""
    user_messages = [m["content"] for m in request.messages if m["role"] == "user"]
    found = find_lab(request.system)
    if found is None:
        return "This coach has no lab to draw on. Open a lab page and ask again."
    module, lab = found
    query = user_messages[-1] if user_messages else ""
    return compose(lab, rank(query, module_passages(module)), max(1, len(user_messages)))
