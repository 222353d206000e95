from __future__ import annotations

import pytest

from resilient.simulator.plan import OK, Outcome, PlanError, parse_plan


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ("", ()),
        ("   ", ()),
        ("ok", (OK,)),
        ("429", (Outcome("status", status=429, retry_after=1.0),)),
        ("429:retry_after=2", (Outcome("status", status=429, retry_after=2.0),)),
        ("429:retry_after=0.5", (Outcome("status", status=429, retry_after=0.5),)),
        ("529", (Outcome("status", status=529),)),
        ("529:retry_after=3", (Outcome("status", status=529, retry_after=3.0),)),
        ("500, 503 ,408", tuple(Outcome("status", status=s) for s in (500, 503, 408))),
        (
            "400,401,403,404,413",
            tuple(Outcome("status", status=s) for s in (400, 401, 403, 404, 413)),
        ),
        ("drop@20", (Outcome("drop", after=20),)),
        ("drop@0", (Outcome("drop", after=0),)),
        ("error@5", (Outcome("error", after=5, error_type="overloaded_error"),)),
        ("error@5:api_error", (Outcome("error", after=5, error_type="api_error"),)),
        ("eof@7", (Outcome("eof", after=7),)),
        ("stall", (Outcome("stall", after=0),)),
        ("stall@3", (Outcome("stall", after=3),)),
        ("slow_ttft=2.5", (Outcome("slow_ttft", delay=2.5),)),
        ("spend_cap", (Outcome("spend_cap", status=429),)),
        ("max_tokens", (Outcome("max_tokens"),)),
        ("429*3", (Outcome("status", status=429, retry_after=1.0),) * 3),
        ("529 * 2,ok", (Outcome("status", status=529),) * 2 + (OK,)),
        ("drop@4*2", (Outcome("drop", after=4),) * 2),
    ],
)
def test_it_parses_each_outcome(plan, expected):
    assert parse_plan(plan) == expected


def test_it_parses_the_contract_example_in_order():
    kinds = [str(o) for o in parse_plan("429:retry_after=2,529,drop@20,error@5,stall,ok")]
    assert kinds == [
        "429:retry_after=2",
        "529",
        "drop@20",
        "error@5:overloaded_error",
        "stall@0",
        "ok",
    ]


@pytest.mark.parametrize(
    ("plan", "bad_item", "position", "reason"),
    [
        ("ok,bogus", "bogus", 2, "unknown outcome"),
        ("429,,ok", "", 2, "empty item"),
        ("418", "418", 1, "status 418 is not one of"),
        ("drop", "drop", 1, "drop needs a token count"),
        ("drop@x", "drop@x", 1, "whole number of tokens"),
        ("eof@-1", "eof@-1", 1, "whole number of tokens"),
        ("error@2:teapot_error", "error@2:teapot_error", 1, "unknown error type 'teapot_error'"),
        ("stall@2:api_error", "stall@2:api_error", 1, "takes no ':' option"),
        ("429:retry_after=soon", "429:retry_after=soon", 1, "retry_after must be a number"),
        ("429:retry_after=-1", "429:retry_after=-1", 1, "retry_after must be a finite number"),
        ("slow_ttft", "slow_ttft", 1, "slow_ttft needs seconds"),
        ("slow_ttft=inf", "slow_ttft=inf", 1, "finite number"),
        ("529*0", "529*0", 1, "repeat count"),
        ("529*99999", "529*99999", 1, "repeat count"),
        ("OK", "OK", 1, "unknown outcome"),
    ],
)
def test_it_names_the_bad_item(plan, bad_item, position, reason):
    with pytest.raises(PlanError) as info:
        parse_plan(plan)
    assert (info.value.item.strip(), info.value.position) == (bad_item, position)
    assert reason in str(info.value)
    assert repr(bad_item) in str(info.value)
    assert "expected one of" in str(info.value)


@pytest.mark.parametrize(
    "plan",
    [
        "ok",
        "429:retry_after=2",
        "529",
        "drop@20",
        "error@5:api_error",
        "eof@3",
        "stall@1",
        "slow_ttft=0.5",
        "spend_cap",
        "max_tokens",
    ],
)
def test_it_round_trips_through_str(plan):
    (outcome,) = parse_plan(plan)
    assert parse_plan(str(outcome)) == (outcome,)
