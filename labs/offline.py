"""The offline coach: answers from the course text when no API key is configured.

It plugs into the simulator as its responder, so an offline reply travels the same road as a
real one (SSE stream, faults, retries, usage, cost). The lab is recognised by its coach's
persona in the system prompt; the conversation so far comes from the request's messages. The
reply itself is `labs.coaching.reply`'s; this module finds the lab and keeps each module's
passage index, built once per content version.
"""

from __future__ import annotations

import threading
from collections import Counter

from course.content import Lab, Module
from course.registry import get_modules
from labs.coaching.corpus import module_passages
from labs.coaching.memory import Memory
from labs.coaching.reply import Course, compose
from labs.coaching.words import terms
from labs.retrieval import Index
from resilient.simulator import MessagesRequest

_lock = threading.Lock()
_indexes: dict[tuple[str, str], tuple[Index, dict[str, float]]] = {}
# A term the course text uses this many times or more is fully "the course's" word; one it
# uses once in passing ("near", "place") counts for a third of that.
SALIENT_USES = 3


def module_index(module: Module) -> tuple[Index, dict[str, float]]:
    """The module's passage index and its vocabulary: each term its lessons, quizzes and labs
    use, weighed by how many passages use it. Computed once per content version."""
    key = (module.slug, module.version)
    with _lock:
        found = _indexes.get(key)
    if found is None:
        passages = module_passages(module.lessons)
        index = Index(passages)
        counts: Counter[str] = Counter()
        for passage in passages:
            counts.update(terms(passage.index_text))
        for _quiz, question in module.all_questions():
            counts.update(terms(question.prompt))
            counts.update(terms(question.explanation_correct))
            for option in question.options:
                counts.update(terms(option.text))
        for lab in module.labs:
            counts.update(terms(f"{lab.mission} {lab.opener}"))
        weights = {term: min(1.0, n / SALIENT_USES) for term, n in counts.items()}
        found = (index, weights)
        with _lock:
            _indexes[key] = found
    return found


def find_lab(system: str) -> tuple[Module, Lab] | None:
    """The lab whose coach persona the system prompt carries."""
    for module in get_modules():
        for lab in module.labs:
            if lab.coach.persona.strip() and lab.coach.persona.strip() in system:
                return module, lab
    return None


def course_for(module: Module, lab: Lab, model: str) -> Course:
    index, vocabulary = module_index(module)
    return Course(lab, module.lesson(lab.lesson), index, vocabulary, model)


def offline_responder(request: MessagesRequest) -> str:
    """Simulator responder: the offline coach's whole reply to the last user message."""
    found = find_lab(request.system)
    if found is None:
        return "This coach has no lab to draw on. Open a lab page and ask again."
    module, lab = found
    return compose(course_for(module, lab, request.model), Memory.from_messages(request.messages))
