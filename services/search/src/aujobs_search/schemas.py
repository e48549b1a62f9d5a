from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class SalaryHit(BaseModel):
    minimum_cents: int
    maximum_cents: int
    currency: str = "AUD"
    period: str


class JobHit(BaseModel):
    job_id: uuid.UUID
    title: str
    company_name: str | None
    classification: str
    sub_classification: str | None
    work_type: str
    suburb: str
    state: str
    postcode: str
    salary: SalaryHit | None
    published_at: datetime | None
    snippet: str | None = None
    score: float | None = None


class SearchResults(BaseModel):
    items: list[JobHit]
    total: int
    next_cursor: str | None = None
