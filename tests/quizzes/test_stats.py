from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from course.charts import ScorePoint, histogram_chart, score_chart
from quizzes.stats import Response, histogram, item_stats, most_chosen_wrong, point_biserial

# Five finished attempts, hand-computed:
#   item right: 1 1 0 1 0        totals: 5 4 2 3 1
#   mean total 3, population variance (4+1+1+0+4)/5 = 2, sd = sqrt(2)
#   M1 = (5+4+3)/3 = 4, M0 = (2+1)/2 = 1.5, p = 0.6, q = 0.4
#   r_pb = (4 - 1.5) / sqrt(2) * sqrt(0.24) = sqrt(3)/2 = 0.8660...
CHOSEN = ["a", "a", "c", "a", "c"]
TOTALS = [5.0, 4.0, 2.0, 3.0, 1.0]
# Discrimination is corrected (the item left out of the total): scores on the other items
#   4 3 2 2 1, mean 2.4, variance 5.2/5 = 1.04; M1 = 3, M0 = 1.5
#   r = 1.5 / sqrt(1.04) * sqrt(0.24) = 1.5 * sqrt(3/13) = 0.7206...


def test_item_statistics_on_a_hand_computed_data_set():
    stats = item_stats("q1", "a", [Response(o, t) for o, t in zip(CHOSEN, TOTALS, strict=True)])
    assert stats.responses == 5
    assert stats.difficulty == pytest.approx(0.6)
    assert stats.discrimination == pytest.approx(1.5 * math.sqrt(3 / 13))
    assert (stats.wrong_option, stats.wrong_count) == ("c", 2)


def test_an_item_the_weak_learners_get_right_discriminates_negatively():
    right = [False, False, True, False, True]  # the two lowest totals
    assert point_biserial(right, TOTALS) == pytest.approx(-math.sqrt(3) / 2)


@pytest.mark.parametrize(
    ("correct", "totals"),
    [
        ([True, True, True], [1.0, 2.0, 3.0]),  # everyone right
        ([False, False], [1.0, 2.0]),  # everyone wrong
        ([True, False], [3.0, 3.0]),  # no spread in totals
        ([], []),
    ],
)
def test_discrimination_is_undefined_without_variation(correct, totals):
    assert point_biserial(correct, totals) is None


def test_no_responses_give_no_difficulty():
    stats = item_stats("q1", "a", [])
    assert (stats.difficulty, stats.discrimination, stats.wrong_option) == (None, None, None)


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (["b", "c", "c", "a"], ("c", 2)),
        (["d", "b"], ("b", 1)),  # a tie goes to the option listed first in the content
        (["a", "a"], None),
    ],
)
def test_most_chosen_wrong_option(chosen, expected):
    assert most_chosen_wrong(chosen, "a", ["a", "b", "c", "d"]) == expected


def test_histogram_counts_each_score():
    assert histogram([3, 1, 3, 0, 9], 3) == [1, 1, 0, 2]


def test_histogram_bars_mark_passing_scores_and_scale_to_the_tallest():
    chart = histogram_chart([0, 1, 4, 2], pass_score=2)
    assert [bar.passing for bar in chart.bars] == [False, False, True, True]
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.score == 2 and tallest.y == chart.plot_top  # reaches the top of the plot
    assert chart.bars[0].height == 0
    assert chart.pass_x == chart.bars[2].x - chart.bars[2].width / 8  # the pass slot's left edge
    assert [tick.label for tick in chart.ticks] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("tallest", "ticks"),
    [(0, [0, 1]), (1, [0, 1]), (4, [0, 1, 2, 3, 4]), (5, [0, 2, 4, 6]), (17, [0, 5, 10, 15, 20])],
)
def test_histogram_gridlines_are_whole_numbers_at_an_even_step(tallest, ticks):
    chart = histogram_chart([tallest, 0], pass_score=1)
    assert [int(tick.label) for tick in chart.ticks] == ticks
    gaps = [a.y - b.y for a, b in zip(chart.ticks, chart.ticks[1:], strict=False)]
    assert max(gaps) - min(gaps) <= 0.2, gaps  # even, but for rounding to a tenth


@pytest.mark.parametrize("font", [12, 20])  # the labels' size on a wide screen and on a phone
def test_histogram_counts_stay_below_the_pass_label_row(font):
    chart = histogram_chart([0, 5, 5, 1], pass_score=2)
    # A line of text takes about 0.93 em above its baseline and 0.24 em below (DejaVu Sans).
    above, below = 0.93 * font, 0.24 * font
    assert chart.pass_label_y - above >= 0, "the pass label is cut off at the top"
    for bar in chart.bars:
        count_baseline = bar.y - 4  # the count printed over its bar
        assert count_baseline - above >= chart.pass_label_y + below, bar


def test_score_chart_places_attempts_in_order_with_shapes_for_pass_and_fail():
    day = datetime(2026, 1, 3, tzinfo=UTC)
    chart = score_chart(
        [ScorePoint(day, 9, 15, False), ScorePoint(day, 15, 15, True)], pass_mark=80
    )
    first, second = chart.markers
    assert first.x < second.x
    assert second.y == 20  # 100 % is the top of the plot
    assert first.y > chart.pass_y > second.y  # 60 % below the pass line, 100 % above
    assert (first.passed, second.passed) == (False, True)
    assert (first.label, first.date, second.number) == ("9/15", "3 Jan", 2)
    assert chart.line == f"{first.x},{first.y} {second.x},{second.y}"
