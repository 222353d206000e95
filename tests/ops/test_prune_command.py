"""`manage.py prune_telemetry`: drops turns past the retention, keeps the rest."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from labs.models import CoachTurn
from ops.models import TelemetryCarry

pytestmark = pytest.mark.django_db


def test_it_deletes_turns_older_than_the_retention_setting(turns, settings):
    settings.TELEMETRY_RETENTION_DAYS = 30
    now = timezone.now()
    old = turns(started=now - timedelta(days=31))
    kept = turns(started=now - timedelta(days=29))
    out = StringIO()
    call_command("prune_telemetry", stdout=out)
    assert list(CoachTurn.objects.values_list("id", flat=True)) == [kept.pk]
    assert "deleted 1 coach turn(s)" in out.getvalue() and "retention 30 days" in out.getvalue()
    carry = TelemetryCarry.objects.get()
    assert (carry.turns, carry.cost_usd) == (1, old.cost_usd)


def test_days_option_and_dry_run(turns):
    now = timezone.now()
    turns(started=now - timedelta(days=8))
    out = StringIO()
    call_command("prune_telemetry", "--days", "7", "--dry-run", stdout=out)
    assert "would delete 1 coach turn(s)" in out.getvalue()
    assert CoachTurn.objects.count() == 1 and not TelemetryCarry.objects.exists()


def test_a_zero_day_retention_is_refused():
    with pytest.raises(CommandError, match="at least 1 day"):
        call_command("prune_telemetry", "--days", "0")
