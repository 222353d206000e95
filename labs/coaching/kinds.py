"""What kind of message the learner sent, read before anything is looked up.

Kinds, checked in this order: an attempt to change or reveal the coach's instructions, keys or
settings (or a pasted secret); a greeting, thanks or small talk with nothing else in it; a
request for code; a follow-up that leans on the previous turn ("why?", "show me code for
that", "and for streaming?"); numbers the lessons have rules for; a question off the course's
topic; and otherwise an on-topic question. A message can want code *and* carry numbers, so the
reading keeps those as flags beside its kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from labs.coaching.words import content_words, normalise, related_terms, stem, wordlist


class Kind(StrEnum):
    SOCIAL = "social"
    INJECTION = "injection"
    CODE = "code"
    FOLLOW_UP = "follow-up"
    NUMBERS = "arithmetic"
    OFF_TOPIC = "off-topic"
    ON_TOPIC = "on-topic"


class Social(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    FAREWELL = "farewell"
    ABOUT = "about"  # "who are you?", "what can you do?"
    CHAT = "chat"  # "how are you?", "cool", "ok"


@dataclass(frozen=True)
class Reading:
    kind: Kind
    wants_code: bool = False
    follow_up: bool = False
    wants_repeat: bool = False
    secret: bool = False  # the message carries something shaped like an API key
    bare: bool = False  # names no topic of its own ("why?", "show me the code")
    social: Social | None = None


_I = re.IGNORECASE
_SECRET = re.compile(r"\b(?:sk-ant-[\w-]{8,}|sk-[a-z0-9]{20,}|ghp_\w{20,}|xox[bp]-[\w-]{10,})", _I)
_INJECTION = [
    re.compile(p, _I)
    for p in (
        r"\b(?:ignore|disregard|forget|override|bypass|drop)\b.{0,40}\b(?:instructions?|rules?|"
        r"prompts?|guidelines?|directives?|above|previous|prior|everything|persona|programming)",
        r"\b(?:system|hidden|initial|original|developer|secret|internal)\s*(?:prompt|message|"
        r"instructions?)\b.{0,20}\b(?:you|your|yours|are|were|is)\b",
        r"\b(?:your|the coach'?s?|this (?:bot|assistant|coach|app|site)'?s?)\s+(?:\w+\s+){0,2}"
        r"(?:system prompt|prompt|instructions|rules|guidelines|configuration|config|settings|"
        r"api[\s_-]?keys?|keys?|secrets?|passwords?|credentials|env(?:ironment)?(?: vars?| "
        r"variables)?|tokens? (?:you use|of yours))\b",
        r"\b(?:print|show|reveal|repeat|output|display|leak|dump|echo|recite|share|give me|"
        r"tell me|write out|copy|paste|what (?:is|are|were|was))\b.{0,30}(?:\b(?:system prompt|"
        r"(?:initial|hidden|original|first|above|previous) (?:prompt|message|instructions|text)|"
        r"(?:text|words|everything|all) (?:above|before this|you were (?:told|given))|"
        r"anthropic_api_key|env(?:ironment)? var(?:iable)?s|settings\.py)|\.env\b)",
        r"\b(?:your|the (?:app|site|server)'?s?)\s+(?:\.env|env file|source code|server files?)",
        r"\byou are now\b|\bfrom now on\b.{0,30}\b(?:you|act|answer|respond|reply|behave)\b",
        r"\b(?:pretend (?:to be|you are|you're)|act as (?:a|an|my|if)|role-?play as|"
        r"simulate (?:a|an)|you(?:'re| are) no longer)\b",
        r"\b(?:new|updated|different) (?:instructions|rules|persona|system prompt)\b",
        r"\b(?:developer|debug|admin|god|jailbreak|unrestricted|dan) mode\b|\bjailbreak\b",
        r"\bwhat (?:were|are) you (?:told|instructed|programmed)\b|\bhow (?:were|are) you "
        r"(?:prompted|instructed|programmed|configured)\b",
        r"\b(?:which|what) (?:api[\s_-]?)?key (?:do|does|are) (?:you|this|the (?:app|site|server))",
    )
]

_SOCIAL = [
    (
        Social.THANKS,
        re.compile(
            r"\b(?:thanks?(?: you| a lot| so much)?|thx|ty|cheers|"
            r"much appreciated|appreciate it|that helps?|helpful)\b",
            _I,
        ),
    ),
    (
        Social.FAREWELL,
        re.compile(
            r"\b(?:bye|goodbye|see you|see ya|later|good night|gtg|"
            r"that'?s all|i'?m done)\b",
            _I,
        ),
    ),
    (
        Social.ABOUT,
        re.compile(
            r"\b(?:who are you|what are you|what can you do|what do you do|"
            r"how does this work|what is this|help me get started|"
            r"what should i ask|where do i start)\b",
            _I,
        ),
    ),
    (
        Social.GREETING,
        re.compile(
            r"^\W*(?:hi+|hello+|hey+|hiya|howdy|yo|greetings|"
            r"good (?:morning|afternoon|evening|day))\b",
            _I,
        ),
    ),
    (
        Social.CHAT,
        re.compile(
            r"\b(?:how are you(?: doing)?|how'?s it going|what'?s up|sup|"
            r"nice to meet you|cool|nice|great|awesome|perfect|ok(?:ay)?|"
            r"got it|makes sense|understood|sure|alright|lol|haha|wow|hmm+)\b",
            _I,
        ),
    ),
]
# Words the social phrases above are made of: left out when asking "is anything else here?"
_SOCIAL_WORDS = wordlist(
    """hi hii hello hey hiya howdy yo greetings good morning afternoon evening day thanks
    thank thx ty cheers much appreciated appreciate helpful helps help bye goodbye see ya
    later night gtg done who what can do does how work this get started should ask where
    start are doing going nice meet cool great awesome perfect ok okay got makes sense
    understood sure alright lol haha wow hmm that all so lot coach you is it up sup
    again"""
)

_CODE = re.compile(
    r"\bcode\b|\bsnippet\b|\bin python\b|\bpython (?:example|version|code)\b|\bimplementation\b|"
    r"\b(?:show|give|write|share|send|paste|see)\b.{0,25}\b(?:example|implement\w*|function|"
    r"class|script|python|how (?:it|that|this) looks)\b|"
    r"\bhow (?:do|would|can|should) i (?:implement|code|write|program)\b|\bshow me how\b|"
    r"\bhow (?:that|it|this) looks\b|\bexample of\b.{0,20}"
    r"\b(?:client|function|class|loop|handler|wrapper)\b",
    _I,
)
_FOLLOW_UP_START = re.compile(
    r"^\W*(?:and|but|so|also|then|what about|how about|what if|why|how come|how so|really|"
    r"tell me more|more|go on|continue|elaborate|explain|example|e\.g\.|meaning|such as|"
    r"like what|which one|is that|does that|would that|could that|can that|should that)\b",
    _I,
)
_ANAPHORA = re.compile(r"\b(?:that|this|it|those|these|them|there|the same|above|previous)\b", _I)
_REPEAT = re.compile(
    r"\b(?:again|repeat|once more|remind me|one more time|re-?quote|quote (?:it|that) again)\b",
    _I,
)

# Words that ask for something without naming a topic ("show me the code").
_REQUEST_WORDS = wordlist(
    """show code snippet example examples python implement implementation sample write give
    see explain elaborate detail details more why how what"""
)
# Technical words that only the course's topic uses: one of them is enough to be on topic.
_STRONG = frozenset(
    stem(w)
    for w in wordlist(
        """api apis sdk anthropic claude llm sonnet haiku opus 429 529 401 403 400 404 408
    409 413 500 503 retry retries retrying backoff jitter throttle throttling ratelimit rpm tpm
    itpm otpm token tokens tokenizer max_tokens stream streaming streamed sse ttft timeout
    timeouts asyncio async await semaphore concurrency concurrent cache caching cached
    cache_control prompt prompts latency p95 p99 slo sla observability telemetry logging logs
    dashboards dashboard alert alerting alerts runbook runbooks on-call oncall pager outage
    outages degradation fallback fallbacks correlation stop_reason overloaded overload
    ratelimited http https endpoint header headers retry-after usage billing pricing
    anthropic-ratelimit exponential thundering herd httpx aiohttp websocket fastapi django
    flask celery webhook sdk's messages.create messages.stream text_stream batching
    backpressure circuit breaker idempotent idempotency"""
    )
)
# Course words that ordinary questions also use: they count, but do not settle it alone.
_GENERIC = frozenset(
    stem(w)
    for w in wordlist(
        """make makes use using used work works working help know think good best better
    bad right wrong new old big small large fast faster slow slower lower higher reduce
    increase improve handle deal start stop set add build design explain understand mean
    idea problem issue question answer example case way thing lot many much some app
    application system service production user users team company project data today now
    time day week month year people someone something anything everything sure first last
    next kind sort type part point look find keep try give take need happen happens going
    long short often every important recommend recommended should could would might
    different same simple easy hard possible approach pattern patterns practice practices
    strategy strategies option options choose pick decide worth enough actually basically
    really probably maybe per each whole"""
    )
)


def is_injection(text: str) -> bool:
    return any(pattern.search(text) for pattern in _INJECTION)


def _social(text: str) -> Social | None:
    """The social kind of a message that says nothing else, or None."""
    remaining = [w for w in content_words(text) if w not in _SOCIAL_WORDS]
    if remaining:
        return None
    for social, pattern in _SOCIAL:
        if pattern.search(text):
            return social
    return None


def topical(text: str, vocabulary: Mapping[str, float]) -> bool | None:
    """Whether a message is about the course: a technical word, or more weight of course
    words than words the course never uses ("How much does a flight to Paris cost?" is not).
    `vocabulary` weighs each course term by how much the course is about it (0-1), so a word
    it uses once in passing ("near", "place") counts for little. None when the message has no
    word either way ("why is that?", "can you give an example?")."""
    covered = 0.0
    unknown = 0
    for word in content_words(text):
        parts = [p for p in re.split(r"[-_.]", word) if p] or [word]
        stems = {stem(p) for p in parts} | {word}
        if stems & _STRONG:
            return True
        if any(s in _GENERIC for s in stems):
            continue
        # A word the synonym table knows ("runaway", "bill") is a course word by another name.
        known = 1.0 if related_terms([stem(word)]) else 0.0
        weight = max([known, *(vocabulary.get(s, 0.0) for s in stems)])
        if weight:
            covered += weight
        else:
            unknown += 1
    if not covered and not unknown:
        return None
    return covered > unknown


def read_message(
    text: str, *, has_previous: bool, vocabulary: Mapping[str, float], has_numbers: bool
) -> Reading:
    """The kind of the learner's message and the flags the reply needs."""
    plain = normalise(text)
    secret = bool(_SECRET.search(text))
    if secret or is_injection(plain):
        return Reading(Kind.INJECTION, secret=secret)
    social = _social(plain)
    if social is not None:
        return Reading(Kind.SOCIAL, social=social)
    wants_code = bool(_CODE.search(plain))
    wants_repeat = bool(_REPEAT.search(plain))
    words = [w for w in content_words(plain) if w not in _SOCIAL_WORDS]
    own_topic = [w for w in words if w not in _REQUEST_WORDS and stem(w) not in _GENERIC]
    follow_up = has_previous and (
        bool(_FOLLOW_UP_START.search(plain))
        or (bool(_ANAPHORA.search(plain)) and len(words) <= 4)
        or not own_topic
    )
    bare = follow_up and not own_topic
    on_topic = topical(plain, vocabulary)
    # A follow-up leans on the turn before: one unfamiliar word ("does it save much?") is
    # not enough to call it off topic.
    leaning = follow_up and len([w for w in own_topic if not vocabulary.get(stem(w))]) < 2
    if not has_numbers and on_topic is False and not leaning:
        return Reading(Kind.OFF_TOPIC)
    if wants_code:
        return Reading(Kind.CODE, True, follow_up, wants_repeat, bare=bare)
    if has_numbers:
        return Reading(Kind.NUMBERS, False, follow_up, wants_repeat, bare=bare)
    if follow_up:
        return Reading(Kind.FOLLOW_UP, False, True, wants_repeat, bare=bare)
    return Reading(Kind.ON_TOPIC, wants_repeat=wants_repeat)
