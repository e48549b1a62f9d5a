"""Australian calendar days: closing dates, expiry and analytics count in Sydney time
(AEST/AEDT), whatever the server's zone (jobs and applications both do)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SYDNEY = ZoneInfo("Australia/Sydney")


def sydney_day(moment: datetime) -> date:
    """The Sydney calendar day of an instant (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SYDNEY).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Sydney time on ``day`` (a closing date's last moment)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=SYDNEY)
