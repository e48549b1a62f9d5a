"""Salary normalisation: every posting also stores its range as an annual AUD figure.

Employers advertise pay per hour, day, week, month or year; job seekers filter by one
number. The stored ``annual_minimum_cents``/``annual_maximum_cents`` use this rule:

=========  ======================  ==========
period     annual figure           multiplier
=========  ======================  ==========
hourly     x 38 hours x 52 weeks   1,976
daily      x 5 days x 52 weeks     260
weekly     x 52 weeks              52
monthly    x 12 months             12
annual     as stated               1
=========  ======================  ==========

38 hours is the full-time week of the National Employment Standards (Fair Work Act
2009, s 62). Amounts are integer cents; any division (such as removing super from a
package) is rounded half-up to whole cents.

Superannuation: a range advertised as a *package including super* is annualised as
stated (the figure already contains super); :func:`base_excluding_super` gives the base
salary inside such a package at the superannuation guarantee rate. A range *plus
super* is the base; super is paid on top.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from aujobs_common.events import SalaryPeriod, SuperMode

HOURS_PER_WEEK = 38
DAYS_PER_WEEK = 5
WEEKS_PER_YEAR = 52
MONTHS_PER_YEAR = 12

PERIODS_PER_YEAR: dict[SalaryPeriod, int] = {
    SalaryPeriod.hourly: HOURS_PER_WEEK * WEEKS_PER_YEAR,  # 1,976
    SalaryPeriod.daily: DAYS_PER_WEEK * WEEKS_PER_YEAR,  # 260
    SalaryPeriod.weekly: WEEKS_PER_YEAR,
    SalaryPeriod.monthly: MONTHS_PER_YEAR,
    SalaryPeriod.annual: 1,
}

#: Superannuation guarantee rate (Superannuation Guarantee (Administration) Act 1992,
#: s 19(2)) in force from ``SUPER_GUARANTEE_RATE_FROM``; it was 11.5% in 2024-25.
SUPER_GUARANTEE_RATE = Decimal("0.12")
SUPER_GUARANTEE_RATE_FROM = date(2025, 7, 1)

EN_DASH = "\N{EN DASH}"

_PERIOD_PHRASE: dict[SalaryPeriod, str] = {
    SalaryPeriod.hourly: "an hour",
    SalaryPeriod.daily: "a day",
    SalaryPeriod.weekly: "a week",
    SalaryPeriod.monthly: "a month",
    SalaryPeriod.annual: "a year",
}

_SUPER_PHRASE: dict[SuperMode, str] = {
    SuperMode.plus_super: " + super",
    SuperMode.package_including_super: ", package incl. super",
}


def _round_cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def annualise(cents: int, period: SalaryPeriod) -> int:
    """The annual equivalent of an amount of ``cents`` per ``period`` (see the table)."""
    if cents < 0:
        raise ValueError("A salary cannot be negative.")
    return _round_cents(Decimal(cents) * PERIODS_PER_YEAR[SalaryPeriod(period)])


def annual_range(min_cents: int, max_cents: int, period: SalaryPeriod) -> tuple[int, int]:
    """Both ends of a range annualised; the minimum may not exceed the maximum."""
    if min_cents > max_cents:
        raise ValueError("The minimum salary cannot be more than the maximum.")
    return annualise(min_cents, period), annualise(max_cents, period)


def base_excluding_super(cents: int, rate: Decimal = SUPER_GUARANTEE_RATE) -> int:
    """The base salary inside a package that includes super at ``rate``:
    package = base x (1 + rate), so base = package / (1 + rate), rounded half-up."""
    if cents < 0:
        raise ValueError("A salary cannot be negative.")
    rate = Decimal(str(rate))
    if not Decimal(0) <= rate < Decimal(1):
        raise ValueError("A super rate is a fraction between 0 and 1, such as 0.12.")
    return _round_cents(Decimal(cents) / (1 + rate))


def _dollars(cents: int, *, with_cents: bool) -> str:
    if with_cents:
        return f"${cents // 100:,}.{cents % 100:02d}"
    return f"${cents // 100:,}"


def format_salary(min_cents: int, max_cents: int, period: SalaryPeriod, super_mode: SuperMode) -> str:
    """The range as shown on a job ad, e.g. "$90,000 - $110,000 a year + super" or
    "$45.50 - $55.00 an hour, package incl. super" (with an en dash, spaced, between the
    ends). Cents are shown only when an end of the range has some (then on both ends);
    equal ends show one amount."""
    if min_cents < 0 or min_cents > max_cents:
        raise ValueError("A salary range needs 0 ≤ minimum ≤ maximum.")
    with_cents = bool(min_cents % 100 or max_cents % 100)
    amount = _dollars(min_cents, with_cents=with_cents)
    if max_cents != min_cents:
        amount = f"{amount} {EN_DASH} {_dollars(max_cents, with_cents=with_cents)}"
    return f"{amount} {_PERIOD_PHRASE[SalaryPeriod(period)]}{_SUPER_PHRASE[SuperMode(super_mode)]}"
