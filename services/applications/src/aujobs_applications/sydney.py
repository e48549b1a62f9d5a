"""Australian calendar days: a job's closing date is the last Sydney (AEST/AEDT) day on
which it takes applications, whatever the server's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SYDNEY = ZoneInfo("Australia/Sydney")


def sydney_day(moment: datetime) -> date:
    """The Sydney calendar day of an instant (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SYDNEY).date()
