from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ops.prune import prune


class Command(BaseCommand):
    help = (
        "Delete coach-turn telemetry older than TELEMETRY_RETENTION_DAYS (or --days), keeping "
        "the /metrics counters' totals. Run it daily (cron, systemd timer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Override the retention.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would go.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = settings.TELEMETRY_RETENTION_DAYS
        if days < 1:
            raise CommandError(f"retention must be at least 1 day, got {days}")
        cutoff = timezone.now() - timedelta(days=days)
        result = prune(cutoff, dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(
            f"{verb} {result.turns} coach turn(s) that started before {cutoff:%Y-%m-%d %H:%M} UTC "
            f"(retention {days} days)"
        )
