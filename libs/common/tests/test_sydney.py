"""Sydney calendar days across daylight saving (AEST +10, AEDT +11)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from aujobs_common.sydney import end_of_day, sydney_day


def test_the_sydney_day_of_an_instant_follows_daylight_saving():
    # 13:30 UTC is 23:30 AEST in winter (still the 1st) but 00:30 AEDT in summer (the 2nd)
    assert sydney_day(datetime(2026, 7, 1, 13, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert sydney_day(datetime(2026, 12, 1, 13, 30, tzinfo=UTC)) == date(2026, 12, 2)
    assert sydney_day(datetime(2026, 12, 1, 13, 30)) == date(2026, 12, 2)  # naive means UTC


def test_a_closing_day_ends_at_its_last_sydney_second():
    assert end_of_day(date(2026, 12, 24)).astimezone(UTC) == datetime(2026, 12, 24, 12, 59, 59, tzinfo=UTC)
    assert end_of_day(date(2026, 6, 30)).astimezone(UTC) == datetime(2026, 6, 30, 13, 59, 59, tzinfo=UTC)
