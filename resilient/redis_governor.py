"""A governor whose buckets live in Redis, so every worker process shares one organisation's limit.

Each bucket is a Redis hash (capacity, rate, level, ts) and every read-modify-write is one Lua
script, so two processes can never both take the last tokens. Time comes from Redis `TIME`,
one clock for all processes. The concurrency limit stays per process (an in-flight count in
Redis would leak slots whenever a worker dies mid-request).

Without configured limits, the first request of all the processes goes out alone as a probe
(a lock key in Redis, with a time limit in case its worker dies) and the others wait until
its headers have written the buckets, as the in-memory governor does within one process: a
request sent blind would be missing from the shared buckets and earn a 429 later.

If Redis cannot be reached the governor stops pacing and logs a warning instead of failing
the call: the API's own 429 + `retry-after` remain as the backstop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as redis_asyncio
from redis.exceptions import RedisError

from resilient.governor import (
    ANNOUNCE_SLACK,
    DIMENSIONS,
    LATENCY_HEADROOM,
    Cost,
    Limits,
    OnWait,
    WaitTooLong,
    corrected_level,
    header_dimensions,
)
from resilient.ratelimit_headers import RateLimitSnapshot

log = logging.getLogger("resilient")

# A probe whose worker died frees the way after this long; waiters look again this often.
PROBE_SECONDS = 30
PROBE_POLL = 0.05


_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function num(x) return string.format('%.6f', x) end
local function load(key)
  local h = redis.call('HMGET', key, 'capacity', 'rate', 'level', 'ts')
  local cap = tonumber(h[1])
  if not cap then return nil end
  local rate, level, ts = tonumber(h[2]), tonumber(h[3]), tonumber(h[4])
  if now > ts then level = math.min(cap, level + (now - ts) * rate) end
  return {cap = cap, rate = rate, level = level}
end
local function save(key, b, ttl)
  redis.call('HSET', key, 'capacity', num(b.cap), 'rate', num(b.rate),
             'level', num(b.level), 'ts', num(now))
  redis.call('EXPIRE', key, ttl)
end
"""

# KEYS: 3 bucket keys, blocked key. ARGV: 3 costs, ttl, headroom seconds. Returns the wait in
# seconds ("0" = taken). A request is let through only when `headroom` seconds of refill would
# still be left after it, but only its cost is debited (see LATENCY_HEADROOM).
_ACQUIRE = (
    _NOW
    + """
local headroom = tonumber(ARGV[5])
local wait = 0
local blocked = tonumber(redis.call('GET', KEYS[4]) or '0')
if blocked > now then wait = blocked - now end
local buckets = {}
for i = 1, 3 do
  local b = load(KEYS[i])
  if b then
    buckets[i] = b
    local want = math.min(tonumber(ARGV[i]), b.cap)
    local need = math.min(want + headroom * b.rate, b.cap) - b.level
    if need > 0 then
      local w = 3600
      if b.rate > 0 then w = need / b.rate end
      if w > wait then wait = w end
    end
  end
end
if wait > 0 then return num(wait) end
for i = 1, 3 do
  local b = buckets[i]
  if b then
    b.level = b.level - math.min(tonumber(ARGV[i]), b.cap)
    save(KEYS[i], b, ARGV[4])
  end
end
return '0'
"""
)

# KEYS: 3 bucket keys. ARGV: per bucket (capacity, rate, level, mode), then ttl; an empty
# capacity leaves that bucket alone. "init" creates a missing bucket at `level` and updates an
# existing one's capacity; "observe" also lowers an existing level to `level` (never raises it);
# "settle" adds `level` (a refund, or a negative correction) to an existing bucket only.
_ADJUST = (
    _NOW
    + """
local ttl = ARGV[13]
for i = 1, 3 do
  local base = (i - 1) * 4
  local cap, rate, level, mode = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
  if cap ~= '' then
    cap, rate, level = tonumber(cap), tonumber(rate), tonumber(level)
    local b = load(KEYS[i])
    if not b then
      if mode ~= 'settle' then save(KEYS[i], {cap = cap, rate = rate, level = level}, ttl) end
    else
      if mode == 'settle' then
        b.level = math.min(b.cap, b.level + level)
      else
        b.cap, b.rate = cap, rate
        if mode == 'observe' then b.level = math.min(b.level, level) end
      end
      save(KEYS[i], b, ttl)
    end
  end
end
return 1
"""
)

# KEYS: 3 bucket keys, probe lock, "no limits" marker. ARGV: probe lock seconds, owner.
# "known" when a bucket exists (limits configured or learnt) or the API was found to send no
# limits; "probe" when this caller now holds the probe lock; else "wait".
_PROBE = """
for i = 1, 3 do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 'known' end
end
if redis.call('EXISTS', KEYS[5]) == 1 then return 'known' end
if redis.call('SET', KEYS[4], ARGV[2], 'NX', 'EX', ARGV[1]) then return 'probe' end
return 'wait'
"""

_PENALIZE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then
  redis.call('SET', KEYS[1], string.format('%.6f', until_), 'EX', math.ceil(ARGV[1]) + 1)
end
return 1
"""


class RedisGovernor:
    """Shared token buckets in Redis under `key_prefix` (one prefix per organisation/key)."""

    def __init__(
        self,
        redis_url: str,
        key_prefix: str = "resilient:governor",
        *,
        limits: Limits | None = None,
        concurrency: int | None = None,
        ttl_seconds: int = 3600,
        socket_timeout: float = 2.0,
        headroom_seconds: float = LATENCY_HEADROOM,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        client: redis_asyncio.Redis | None = None,
    ) -> None:
        # redis-py >= 8 defaults socket_timeout to 5 s; our commands are short, so say so.
        self._redis = client or redis_asyncio.Redis.from_url(
            redis_url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        self._keys = [f"{key_prefix}:{name}" for name in DIMENSIONS]
        self._blocked_key = f"{key_prefix}:blocked"
        self._limits = limits
        self._ttl = ttl_seconds
        self._headroom = headroom_seconds
        self._sleep = sleep
        self._semaphore = asyncio.Semaphore(concurrency) if concurrency else None
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._adjust = self._redis.register_script(_ADJUST)
        self._penalize = self._redis.register_script(_PENALIZE)
        self._probe = self._redis.register_script(_PROBE)
        self._probe_key = f"{key_prefix}:probe"
        self._no_limits_key = f"{key_prefix}:no-limits"
        self._owner = uuid.uuid4().hex
        self._probing = False
        # Once the limits are known this process stops asking: the buckets' time limit is
        # renewed by every request, so they outlive any gap shorter than `ttl_seconds`.
        self._learned = limits is not None
        self._initialised = False
        # Held while the configured limits are written: an acquire that ran before the bucket
        # existed would pass unpaced and undebited (measured: 64 of 64 let through at once
        # against a limit of 60), one extra request per early waiter in a burst.
        self._init_lock = asyncio.Lock()
        self.waited_total = 0.0

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        return await self._run_command(script(keys=keys, args=args))

    async def _run_command(self, command: Awaitable[Any]) -> Any:
        """The command's result; None (and a warning) when Redis cannot be reached."""
        try:
            return await command
        except (RedisError, OSError) as exc:
            log.warning("redis governor unavailable, not pacing: %s", exc)
            return None

    async def _init(self) -> None:
        if self._initialised:
            return
        async with self._init_lock:
            if self._initialised:
                return
            if self._limits is not None:
                args: list[Any] = []
                for name in DIMENSIONS:
                    limit = getattr(self._limits, name)
                    if limit is None:
                        args += ["", "", "", ""]
                    else:
                        args += [limit.capacity, limit.refill_per_second, limit.capacity, "init"]
                await self._run(self._adjust, self._keys, [*args, self._ttl])
            self._initialised = True

    async def acquire(
        self, cost: Cost, *, max_wait: float | None = None, on_wait: OnWait | None = None
    ) -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        limit = math.inf if max_wait is None else max_wait

        async def within(step: Awaitable[object]) -> None:
            if math.isinf(limit):
                await step
                return
            try:
                async with asyncio.timeout(max(limit - (loop.time() - start), 0.0)):
                    await step
            except TimeoutError:
                raise WaitTooLong(limit) from None

        if self._semaphore is not None:
            await within(self._semaphore.acquire())
        try:
            await self._init()
            if self._limits is None and not self._learned:
                await within(self._await_limits())
            args = [cost.get(name) for name in DIMENSIONS]
            told_until = -math.inf
            while True:
                result = await self._run(
                    self._acquire,
                    [*self._keys, self._blocked_key],
                    [*args, self._ttl, self._headroom],
                )
                wait = float(result) if result is not None else 0.0
                if wait <= 0:
                    break
                now = loop.time()
                if now - start + wait > limit:
                    # Nothing was debited: the script takes only when nothing has to wait.
                    raise WaitTooLong(now - start + wait)
                if on_wait is not None and now + wait > told_until + ANNOUNCE_SLACK:
                    on_wait(wait)
                    told_until = now + wait
                # Waiters in other processes computed the same instant: spread them a little.
                await self._sleep(wait * (1 + 0.05 * random.random()))
        except BaseException:
            if self._probing:
                # Not sent after all: another request probes instead (nothing was learnt).
                self._probing = False
                await self._run_command(self._redis.delete(self._probe_key))
            if self._semaphore is not None:
                self._semaphore.release()
            raise
        waited = loop.time() - start
        self.waited_total += waited
        return waited

    async def _await_limits(self) -> None:
        """Return once the shared limits are known, or with this process holding the probe."""
        while True:
            state = await self._run(
                self._probe,
                [*self._keys, self._probe_key, self._no_limits_key],
                [PROBE_SECONDS, self._owner],
            )
            if state is None or state in (b"known", "known"):
                self._learned = True
                return
            if state in (b"probe", "probe"):
                self._probing = True
                return
            await self._sleep(PROBE_POLL)

    async def _end_probe(self, *, limits_seen: bool) -> None:
        if not self._probing:
            return
        self._probing = False
        self._learned = True
        if not limits_seen:
            # The probe's response carried no rate-limit headers: the API sends none, so
            # nobody waits for them (until the marker expires with the buckets' time limit).
            await self._run_command(self._redis.set(self._no_limits_key, 1, ex=self._ttl))
        await self._run_command(self._redis.delete(self._probe_key))

    async def release(self) -> None:
        await self._end_probe(limits_seen=False)
        if self._semaphore is not None:
            self._semaphore.release()

    async def observe(self, snapshot: RateLimitSnapshot) -> None:
        await self._init()
        found = header_dimensions(snapshot)
        args: list[Any] = []
        for name in DIMENSIONS:
            dim = found.get(name)
            if dim is None:
                args += ["", "", "", ""]
            else:
                level = corrected_level(name, dim.remaining)
                args += [dim.limit, dim.limit / 60.0, level, "observe"]
        await self._run(self._adjust, self._keys, [*args, self._ttl])
        if found:
            await self._end_probe(limits_seen=True)

    async def settle(self, reserved: Cost, actual: Cost) -> None:
        args: list[Any] = []
        for name in DIMENSIONS:
            delta = reserved.get(name) - actual.get(name)
            args += [0, 0, delta, "settle"] if delta else ["", "", "", ""]
        await self._run(self._adjust, self._keys, [*args, self._ttl])

    async def penalize(self, delay: float) -> None:
        await self._run(self._penalize, [self._blocked_key], [delay])
