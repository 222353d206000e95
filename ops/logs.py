"""A logging filter that puts the current correlation id on every record.

Configured on the console handler in `config/settings.py` (`LOGGING["filters"]`), so it sees
every record that is written, from any logger. The `resilient` logger writes each attempt and
call as a dict of fields, which `config.logs.JsonFormatter` writes as one flat JSON object, so
each log line can be searched by `correlation_id`, `request_id`, `attempt` and so on.
"""

from __future__ import annotations

import logging

from resilient.telemetry import correlation_id


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            from_msg = record.msg.get("correlation_id") if isinstance(record.msg, dict) else None
            # Django logs 4xx/5xx responses after the middleware has returned (the id's scope
            # is over), but it attaches the request, which carries the id.
            from_request = getattr(getattr(record, "request", None), "correlation_id", None)
            cid = from_msg or correlation_id() or from_request
            if cid is not None:
                record.correlation_id = cid
        return True
