"""Salary normalisation: the annual figure job seekers filter by, and the text they read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aujobs_common.events import SalaryPeriod, SuperMode
from aujobs_jobs.salary import (
    SUPER_GUARANTEE_RATE,
    SUPER_GUARANTEE_RATE_FROM,
    annual_range,
    annualise,
    base_excluding_super,
    format_salary,
)


@pytest.mark.parametrize(
    ("cents", "period", "annual"),
    [
        (45_00, SalaryPeriod.hourly, 88_920_00),  # $45 x 38 x 52
        (30_55, SalaryPeriod.hourly, 60_366_80),  # $30.55 x 1,976
        (650_00, SalaryPeriod.daily, 169_000_00),  # $650 x 260
        (1_500_00, SalaryPeriod.weekly, 78_000_00),
        (7_500_00, SalaryPeriod.monthly, 90_000_00),
        (95_000_00, SalaryPeriod.annual, 95_000_00),
    ],
)
def test_annualise_each_period(cents: int, period: SalaryPeriod, annual: int) -> None:
    assert annualise(cents, period) == annual


def test_annualise_accepts_the_period_value_string() -> None:
    assert annualise(10_00, "weekly") == 520_00


def test_negative_salary_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        annualise(-1, SalaryPeriod.annual)


def test_annual_range_keeps_the_order() -> None:
    assert annual_range(40_00, 50_00, SalaryPeriod.hourly) == (79_040_00, 98_800_00)
    assert annual_range(50_00, 50_00, SalaryPeriod.daily) == (13_000_00, 13_000_00)


def test_annual_range_rejects_minimum_above_maximum() -> None:
    with pytest.raises(ValueError, match="minimum"):
        annual_range(60_00, 50_00, SalaryPeriod.hourly)


def test_super_guarantee_rate_is_twelve_percent_from_july_2025() -> None:
    assert SUPER_GUARANTEE_RATE == Decimal("0.12")
    assert SUPER_GUARANTEE_RATE_FROM.isoformat() == "2025-07-01"


def test_base_excluding_super_divides_out_the_guarantee() -> None:
    assert base_excluding_super(112_000_00) == 100_000_00
    # 100,000.00 / 1.12 = 89,285.714… → 89,285.71
    assert base_excluding_super(100_000_00) == 89_285_71
    assert base_excluding_super(115_00, Decimal("0.115")) == 103_14  # 103.139… → 103.14


def test_base_excluding_super_rounds_half_up() -> None:
    # 3 / 1.2 = 2.5 and 9 / 1.2 = 7.5 exactly: half-up gives 3 and 8 (banker's would give 2 and 8)
    assert base_excluding_super(3, Decimal("0.2")) == 3
    assert base_excluding_super(9, Decimal("0.2")) == 8
    assert base_excluding_super(7, Decimal("0.4")) == 5  # exactly 5.0


def test_base_excluding_super_rejects_nonsense_rates() -> None:
    with pytest.raises(ValueError, match="fraction"):
        base_excluding_super(100_00, Decimal("12"))


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (
            (90_000_00, 110_000_00, SalaryPeriod.annual, SuperMode.plus_super),
            "$90,000 – $110,000 a year + super",  # noqa: RUF001
        ),
        (
            (45_00, 55_00, SalaryPeriod.hourly, SuperMode.package_including_super),
            "$45 – $55 an hour, package incl. super",  # noqa: RUF001
        ),
        (
            (45_50, 55_00, SalaryPeriod.hourly, SuperMode.plus_super),
            "$45.50 – $55.00 an hour + super",  # noqa: RUF001
        ),
        ((650_00, 650_00, SalaryPeriod.daily, SuperMode.plus_super), "$650 a day + super"),
        (
            (1_800_00, 2_000_00, SalaryPeriod.weekly, SuperMode.plus_super),
            "$1,800 – $2,000 a week + super",  # noqa: RUF001
        ),
        (
            (8_000_00, 9_000_00, SalaryPeriod.monthly, SuperMode.package_including_super),
            "$8,000 – $9,000 a month, package incl. super",  # noqa: RUF001
        ),
        ((5, 5, SalaryPeriod.hourly, SuperMode.plus_super), "$0.05 an hour + super"),
    ],
)
def test_format_salary(args: tuple, text: str) -> None:
    assert format_salary(*args) == text


def test_format_salary_rejects_inverted_range() -> None:
    with pytest.raises(ValueError, match="minimum"):
        format_salary(2, 1, SalaryPeriod.annual, SuperMode.plus_super)
