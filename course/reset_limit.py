"""How many password-reset emails may be asked for: per email address and per client address.

Each request the form accepts counts against the email address it names, whether or not an
account has that address (so a refusal says nothing about accounts), and against the client
address it comes from, resolved as the login throttle resolves it. Counts live in Django's cache
(shared by the workers through Redis) in windows aligned to the clock, so counting is one atomic
increment and a window's count expires by itself; the price is that across a window's edge a
sender can get up to twice a limit through.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

clock = time.time  # seconds; tests move it to leave a window


@dataclass(frozen=True)
class Refusal:
    limit: str  # "email" or "client address", for the log; the learner sees one sentence
    minutes: int  # until the window ends, rounded up

    @property
    def sentence(self) -> str:
        wait = f"{self.minutes} minute{'' if self.minutes == 1 else 's'}"
        return (
            "Too many reset links were asked for from your network or for this email address, "
            f"so no email was sent. Try again in {wait}; a link sent earlier still works."
        )


def _count(key: str, window: int) -> int:
    """One more request in the window `key` names; how many there are now."""
    cache.add(key, 0, timeout=window)  # lives at least until the window ends
    try:
        return cache.incr(key)
    except ValueError:  # evicted between the two calls
        cache.add(key, 1, timeout=window)
        return 1


def admit(request: HttpRequest, email: str) -> Refusal | None:
    """Count a request for a reset email to `email`; a Refusal when it is one too many."""
    window = int(settings.PASSWORD_RESET_WINDOW.total_seconds())
    now = clock()
    index = int(now // window)
    # Hashed: the cache holds no email address, and any address makes a key of one length.
    mailbox = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    client = get_client_ip_address(request) or "unknown"
    by_email = _count(f"password-reset:email:{mailbox}:{index}", window)
    by_client = _count(f"password-reset:client:{client}:{index}", window)
    minutes = math.ceil(((index + 1) * window - now) / 60)
    if by_email > settings.PASSWORD_RESET_LIMIT_PER_EMAIL:
        return Refusal("email", minutes)
    if by_client > settings.PASSWORD_RESET_LIMIT_PER_CLIENT:
        return Refusal("client address", minutes)
    return None
