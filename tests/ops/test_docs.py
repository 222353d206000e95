"""The runbook and the Prometheus rules file cover every alert rule the dashboard evaluates."""

from __future__ import annotations

import re

import yaml
from django.urls import reverse

from ops.alerts import Thresholds, rules
from tests.conftest import REPO

RUNBOOK = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")
PROMETHEUS = yaml.safe_load((REPO / "docs" / "prometheus-alerts.yml").read_text(encoding="utf-8"))


def test_every_rule_has_a_runbook_section_and_a_prometheus_alert():
    alerts = {r["alert"]: r for g in PROMETHEUS["groups"] for r in g["rules"] if "alert" in r}
    for rule in rules(Thresholds()):
        assert f'<a id="{rule.runbook}"></a>' in RUNBOOK, rule.name
        assert rule.name in alerts, rule.name
        assert alerts[rule.name]["annotations"]["runbook_url"].endswith("#" + rule.runbook)


EXPORTED = {
    "coach_turns_total",
    "coach_degraded_turns_total",
    "coach_turn_duration_seconds_bucket",
    "coach_ttft_seconds_bucket",
    "coach_cost_today_usd",
    "coach_budget_global_day_usd",
    "ops_alert_firing",
}


def test_the_prometheus_rules_use_only_series_the_app_exports():
    used = set()
    for group in PROMETHEUS["groups"]:
        for rule in group["rules"]:
            text = rule["expr"] + str(rule.get("annotations", ""))
            used |= set(re.findall(r"(?<![:\w])(?:coach|ops|http|websocket)_[a-z0-9_]+", text))
    assert used and used <= EXPORTED, used - EXPORTED


def test_the_runbook_is_a_staff_page_with_a_target_for_every_alert(
    anon_client, learner_client, instructor_client
):
    url = reverse("ops_runbook")
    assert anon_client.get(url).status_code == 302
    assert learner_client.get(url).status_code == 403
    page = instructor_client.get(url).content.decode()
    assert '<h1 id="runbook-title">Operations runbook</h1>' in page
    for rule in rules(Thresholds()):
        assert f'<a id="{rule.runbook}"' in page, rule.name
    dashboard = instructor_client.get(reverse("ops_dashboard")).content.decode()
    assert f'<a href="{url}">the operations runbook</a>' in dashboard
    for rule in rules(Thresholds()):
        assert f'<a href="{url}#{rule.runbook}">{rule.name}' in dashboard
