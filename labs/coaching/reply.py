"""The offline coach's reply, as markdown: an answer first, then what it stands on, then a question.

For an on-topic message: a direct answer made of whole sentences from the best passages (never
cut mid-sentence, never a sentence already said in this conversation unless the learner asks
again); the learner's numbers worked through when they gave some; the supporting quote, or the
lesson's code when asked for it, with a link to the lesson section; and one coaching question
written for that section in the lab's file. Greetings, thanks, off-topic questions and attempts
to change or reveal the coach's instructions get short replies that quote nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from course.content import Lab, Lesson
from labs.coaching.arithmetic import TOPICS, Working, workings
from labs.coaching.corpus import CALLOUT, CODE, CONCEPT, LIST, PROSE, Passage, sentences
from labs.coaching.kinds import Kind, Reading, Social, read_message
from labs.coaching.memory import Memory
from labs.coaching.quantities import read_quantities
from labs.coaching.words import RELATED_WEIGHT, related_terms, terms
from labs.retrieval import Hit, Index, Query, merge, query_terms

ANSWER_KINDS = (PROSE, LIST, CALLOUT, CONCEPT)
ANSWER_CHARS = 380  # the direct answer: whole sentences, about this long at most
QUOTE_CHARS = 700  # a supporting quote: whole sentences, about this long at most
# A follow-up also searches with the previous turn's words: strongly when it names no topic
# of its own ("why?"), lightly when it does ("and for streaming?").
BARE_WEIGHT = 0.7
CONTEXT_WEIGHT = 0.3
SECTION_FACTOR = 1.5  # a bare follow-up prefers the section the last reply cited
ANSWER_PASSAGES = 3  # the direct answer's sentence is sought in this many of the best passages
SECOND_SENTENCE = 0.5  # another sentence joins it when it covers the question this well
# What a question asks for, and what a sentence that answers it holds.
ANSWER_TYPES = (
    (
        re.compile(r"\bhow long\b|\bhow many seconds\b|\bwhen\b"),
        re.compile(r"\bseconds?\b|\bminutes?\b|\b\d+\s?(?:s|ms)\b"),
    ),
    (re.compile(r"\bhow much\b|\bcost\b|\bprice\b"), re.compile(r"\$|\bcosts?\b|\bprice")),
    (
        re.compile(r"\bwhy\b|\bhow come\b|\bwhat for\b"),
        re.compile(r"\bbecause\b|\bprevents?\b|\bmistake\b|\bso that\b|\brather than\b"),
    ),
)
ANSWER_TYPE_BOOST = 1.4
FALLBACK_QUESTION = "What would you try first, and how would you know it worked?"


@dataclass(frozen=True)
class Course:
    """What the coach answers from: the lab, its lesson, and the module's passages."""

    lab: Lab
    lesson: Lesson | None
    index: Index
    vocabulary: Mapping[str, float]
    model: str


def cite(passage: Passage) -> str:
    return f"[{passage.where}]({passage.link})"


def quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def fenced(passage: Passage) -> str:
    fence = "~~~" if "```" in passage.text else "```"
    return f"{fence}{passage.language}\n{passage.text}\n{fence}"


class Reply:
    """One reply being put together for `memory.current`."""

    def __init__(self, course: Course, memory: Memory) -> None:
        self.course = course
        self.memory = memory
        self.quantities = read_quantities(memory.current)
        self.workings = workings(self.quantities, course.model)
        self.reading: Reading = read_message(
            memory.current,
            has_previous=memory.previous is not None,
            vocabulary=course.vocabulary,
            has_numbers=bool(self.workings),
        )
        self.cited: list[Passage] = []

    # --- the query --------------------------------------------------------------------------

    def last_sections(self) -> set[tuple[str, str]]:
        """(lesson slug, section) of the passages the last reply linked to."""
        links = set(self.memory.cited_last())
        return {(p.lesson_slug, p.section) for p in self.course.index.passages if p.link in links}

    def query(self, *, topic: str = "") -> dict[str, float]:
        own = terms(self.memory.current)
        parts = [query_terms(self.memory.current)]
        parts.append(dict.fromkeys(related_terms(own), RELATED_WEIGHT))
        if topic:
            parts.append(query_terms(topic, RELATED_WEIGHT))
        if self.reading.follow_up and self.memory.previous:
            weight = BARE_WEIGHT if self.reading.bare else CONTEXT_WEIGHT
            parts.append(query_terms(self.memory.previous, weight))
            for _slug, section in self.last_sections():
                parts.append(query_terms(section, weight))
        return merge(*parts)

    def search(self, query: Query, kinds: Sequence[str], limit: int = 6) -> list[Hit]:
        lab = self.course.lab
        # A follow-up ("why?", "what about timeouts?") may be about what was just said: the
        # last reply's passages stay findable, to be pointed back to rather than quoted.
        exclude: set[str] = set() if self.reading.wants_repeat else self.used()
        if self.reading.follow_up:
            exclude -= {
                p.key for p in self.course.index.passages if p.link in self.memory.cited_last()
            }
        hits = self.course.index.search(
            query, home=lab.lesson, kinds=kinds, exclude=exclude, limit=limit * 2
        )
        if self.reading.bare:
            last = self.last_sections()
            hits = [
                Hit(h.passage, h.score * SECTION_FACTOR)
                if (h.passage.lesson_slug, h.passage.section) in last
                else h
                for h in hits
            ]
            hits.sort(key=lambda h: -h.score)
        return hits[:limit]

    def used(self) -> set[str]:
        """Passages this conversation has already given in full."""
        if not self.memory.replies:
            return set()
        used = set()
        for passage in self.course.index.passages:
            if passage.kind == CODE:
                if self.memory.said(passage.text):
                    used.add(passage.key)
            elif all(self.memory.said(s) for s in sentences(passage.text)):
                used.add(passage.key)
        return used

    # --- the parts --------------------------------------------------------------------------

    def fresh(self, passage: Passage) -> list[str]:
        found = sentences(passage.text)
        if self.reading.wants_repeat:
            return found
        return [s for s in found if not self.memory.said(s)]

    def answer(self, hits: list[Hit], query: Query) -> tuple[str, Passage | None]:
        """Whole sentences that answer the question, and the passage they come from."""
        if not hits:
            return "", None
        index = self.course.index
        best = hits[0]
        if self.reading.follow_up and not any(
            index.overlap(query, s) > 0 for s in self.fresh(best.passage)
        ):
            # The answer to "why?" or "what should the user see then?" is in what was just
            # said: point back to its one best sentence rather than quote the passage again.
            top = hits[0].score
            options = [
                (
                    index.overlap(query, f"{hit.passage.section} {s}")
                    * self.answer_type(s)
                    * hit.score
                    / top,
                    s,
                    hit,
                )
                for hit in hits[:ANSWER_PASSAGES]
                for s in sentences(hit.passage.text)
                if self.memory.said(s)
            ]
            if options:
                weight, said, hit = max(options, key=lambda option: option[0])
                if weight > 0:
                    return f"As I said above: {said}", hit.passage
        # The answer's passage is the one with the best sentence among the best passages: a
        # sentence that says what was asked beats a long paragraph that mentions it in passing.
        top = hits[0].score
        best_sentence, best_score = "", 0.0
        for hit in hits[:ANSWER_PASSAGES]:
            place = f"{hit.passage.section} {hit.passage.heading}"
            for sentence in self.fresh(hit.passage):
                # A sentence says what its section's heading says too.
                covered = index.overlap(query, f"{place} {sentence}")
                weight = covered * (0.6 + 0.4 * hit.score / top) * self.answer_type(sentence)
                if weight > best_score:
                    best, best_sentence, best_score = hit, sentence, weight
        if not best_sentence:
            return "", None
        fresh = self.fresh(best.passage)
        lead = index.overlap(query, best_sentence)
        scored = sorted(fresh, key=lambda s: -index.overlap(query, s))
        chosen = [best_sentence]
        for sentence in scored:
            if sentence == best_sentence:
                continue
            if index.overlap(query, sentence) < lead * SECOND_SENTENCE:
                break
            if len(" ".join([*chosen, sentence])) > ANSWER_CHARS:
                break
            chosen.append(sentence)
        # A short lead ("The correct pattern is ... .", "Before going to production:") needs
        # the sentence after it to say anything.
        last = max(fresh.index(s) for s in chosen)
        if len(" ".join(chosen)) < 90 and last + 1 < len(fresh):
            chosen.append(fresh[last + 1])
        ordered = [s for s in fresh if s in chosen]
        if best.passage.kind == LIST:
            items = "\n".join(f"- {s}" for s in ordered)
            heading = f"{best.passage.heading}:" if best.passage.heading else ""
            return f"{heading}\n\n{items}".strip(), best.passage
        return " ".join(ordered), best.passage

    def answer_type(self, sentence: str) -> float:
        """ANSWER_TYPE_BOOST when the sentence holds the kind of thing the question asks for
        ("how long" wants a duration, "how much" an amount), else 1."""
        question = self.memory.current.casefold()
        for asked, wanted in ANSWER_TYPES:
            if asked.search(question) and wanted.search(sentence):
                return ANSWER_TYPE_BOOST
        return 1.0

    def support(self, hits: list[Hit], answered: Passage | None, said: str) -> str:
        """What the answer stands on: the rest of its passage quoted, or another passage of
        the same section, with the link; at least the link."""
        if answered is None:
            return ""
        place = (answered.lesson_slug, answered.section)
        options = [answered] + [
            h.passage
            for h in hits
            if h.passage is not answered
            and h.passage.kind != CODE
            and (h.passage.lesson_slug, h.passage.section) == place
        ]
        for passage in options[:3]:
            rest = [s for s in self.fresh(passage) if s not in said]
            if not rest:
                continue
            chosen: list[str] = []
            for sentence in rest:
                if chosen and len(" ".join([*chosen, sentence])) > QUOTE_CHARS:
                    break
                chosen.append(sentence)
            if passage.kind == LIST:
                text = "\n".join(f"- {line}" for line in chosen)
            else:
                text = " ".join(chosen)
            if passage is not answered:
                self.cited.append(passage)
            return f"{quote(text)}\n>\n> — {cite(passage)}"
        return f"From {cite(answered)}."

    def code(self, query: Query) -> Passage | None:
        """The lesson code that fits: by its words, else the code of the best prose's section."""
        hits = self.search(query, (CODE,), limit=6)
        python = [h for h in hits if h.passage.language == "python"]
        if python and (not hits or python[0].score >= hits[0].score * 0.5):
            return python[0].passage
        if hits:
            return hits[0].passage
        exclude = () if self.reading.wants_repeat else self.used()
        candidates = [
            p
            for p in self.course.index.passages
            if p.kind == CODE and p.key not in exclude and p.language == "python"
        ]
        prose = self.search(query, ANSWER_KINDS, limit=3)
        for hit in prose:
            place = (hit.passage.lesson_slug, hit.passage.section)
            same = [p for p in candidates if (p.lesson_slug, p.section) == place]
            if same:
                return same[0]
        home = [p for p in candidates if p.lesson_slug == self.course.lab.lesson]
        return home[0] if home else None

    def question(self, passage: Passage | None = None, needs: str = "") -> str:
        """One coaching question for the passage's section, not asked before here.

        When the learner's numbers leave a calculation open, the question asks for the
        missing number instead: the coach asks before it prescribes."""
        if needs:
            return needs
        coach = self.course.lab.coach
        headings = (passage.heading, passage.section) if passage is not None else ()
        candidates = [*coach.questions_for(*headings), *coach.questions]
        for candidate in candidates:
            if not self.memory.asked(candidate):
                return candidate
        return candidates[0] if candidates else FALLBACK_QUESTION

    def topic_passage(self, working: Working) -> Passage | None:
        hits = self.course.index.search(
            query_terms(TOPICS[working.topic]), home=self.course.lab.lesson, kinds=ANSWER_KINDS
        )
        return hits[0].passage if hits else None

    # --- whole replies -----------------------------------------------------------------------

    def render(self) -> str:
        kind = self.reading.kind
        if kind == Kind.INJECTION:
            return self.decline_injection()
        if kind == Kind.SOCIAL:
            return self.social()
        if kind == Kind.OFF_TOPIC:
            return self.decline_off_topic()
        return self.on_topic()

    def lab_lesson(self) -> str:
        lesson = self.course.lesson
        if lesson is None:
            return f"*{self.course.lab.title}*"
        return f"Lesson {lesson.number}, {lesson.title}"

    def lab_topics(self) -> str:
        lesson = self.course.lesson
        if lesson is None:
            return f"*{self.course.lab.title}*"
        headings = [p.section for p in self.course.index.passages if p.lesson_slug == lesson.slug]
        unique = [
            h for i, h in enumerate(headings) if h and h not in headings[:i] and h != "Key concepts"
        ]
        listed = ", ".join(f"*{h}*" for h in unique[:-1])
        listed = f"{listed} and *{unique[-1]}*" if listed else (f"*{unique[-1]}*" if unique else "")
        where = f"Lesson {lesson.number}, {lesson.title}"
        return f"{where} ({listed})" if listed else where

    def decline_injection(self) -> str:
        lab = self.course.lab
        if self.reading.secret:
            return (
                "That looks like an API key or another secret. Please don't paste keys here: "
                "treat this one as exposed and rotate it in your Anthropic Console now. I have "
                "not used it and I will not repeat it.\n\n"
                f"Back to *{lab.title}*: {self.question()}"
            )
        return (
            "I can't change my instructions or share them, and I never reveal keys, prompts "
            "or settings, whatever a message asks. "
            f"Happy to keep going on *{lab.title}*: {self.question()}"
        )

    def decline_off_topic(self) -> str:
        return (
            "That's outside what I can help with here, so I'll leave it. "
            f"In this lab I coach {self.lab_topics()}, so ask me about those, or bring your "
            "own numbers (requests, tokens, limits, prices) and we'll work them through."
        )

    def social(self) -> str:
        lab = self.course.lab
        coach = lab.coach
        social = self.reading.social
        if social == Social.THANKS:
            return f"Glad it helped. {self.question()}"
        if social == Social.FAREWELL:
            return (
                "Good luck with it. The conversation stays here, so pick it up whenever you "
                "have new numbers or a new failure to look at."
            )
        if social == Social.ABOUT:
            return (
                f"I'm the {coach.name}, running offline: I answer from the course text "
                f"(mostly {self.lab_lesson()}), quote the passage I draw on with a link, show the "
                "lesson's code when you ask for it, and work through your numbers with you: "
                "requests and tokens against rate limits, cost per request, cache savings, "
                f"max_tokens budgets.\n\nA good first question: “{lab.opener}”"
            )
        if social == Social.GREETING and not self.memory.replies:
            return f"Hello! {lab.greeting}"
        return f"Ready when you are. {self.question()}"

    def on_topic(self) -> str:
        query = self.query()
        code = self.code(query) if self.reading.wants_code else None
        if code is not None:
            # Explain the code from its own section: the prose the code illustrates.
            hits = [
                h
                for h in self.search(merge(query, query_terms(code.section)), (PROSE,))
                if (h.passage.lesson_slug, h.passage.section) == (code.lesson_slug, code.section)
            ]
            answer, source = self.answer(hits, merge(query, query_terms(code.section)))
        else:
            hits = self.search(query, ANSWER_KINDS)
            answer, source = self.answer(hits, query)
        parts: list[str] = []
        needs = ""
        shown = self.workings[:2]
        if shown:
            parts.append(self.worked(shown))
            needs = next((w.needs for w in shown if w.needs), "")
            if source is None:
                source = self.topic_passage(shown[0])
        if answer:
            parts.insert(0, answer)
        if source is not None:
            self.cited.insert(0, source)
        if self.reading.wants_code:
            if code is not None:
                self.cited.append(code)
                lead = f"The lesson's `{code.names[0]}`" if code.names else "The lesson's example"
                parts.append(f"{lead}, from {cite(code)}:\n\n{fenced(code)}")
            else:
                parts.append("The lessons have no code for that, so I won't invent any.")
        elif source is not None:
            parts.append(self.support(hits, source, answer))
        if not parts:
            return self.not_covered(hits)
        if answer == "" and not shown and not self.reading.wants_code:
            return self.not_covered(hits)
        parts.append(self.question(self.cited[0] if self.cited else None, needs))
        return "\n\n".join(parts)

    def worked(self, shown: Sequence[Working]) -> str:
        blocks = []
        for working in shown:
            where = self.topic_passage(working)
            title = f"**{working.title}**" + (f" ({cite(where)})" if where else "")
            if where is not None and where not in self.cited:
                self.cited.append(where)
            lines = "\n".join(f"- {line}" for line in working.lines)
            blocks.append(f"{title}\n\n{lines}")
        return "\n\n".join(blocks)

    def not_covered(self, hits: list[Hit]) -> str:
        if hits and not self.reading.wants_repeat and self.used():
            where = cite(hits[0].passage)
            return (
                f"I've already given you what the course says on that ({where}), and I won't "
                "repeat it unless you ask me to. Shall we apply it to your own case instead? "
                + self.question(hits[0].passage)
            )
        return (
            "The course doesn't cover that, so I won't guess. "
            f"It does cover {self.lab_topics()}. " + self.question()
        )


def compose(course: Course, memory: Memory) -> str:
    return Reply(course, memory).render()
