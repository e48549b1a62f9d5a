"""Callers and checks the jobs tests share."""

from __future__ import annotations

# re-exported for the test modules
from aujobs_common.testing.callers import admin, employer, is_problem, seeker  # noqa: F401
