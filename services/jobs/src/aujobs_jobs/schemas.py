from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from aujobs_common.events import JobStatus, SalaryPeriod, WorkType
from aujobs_common.reference import STATES, is_classification


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suburb: str = Field(min_length=2, max_length=100, examples=["Parramatta"])
    state: str = Field(examples=["NSW"], description="State or territory code")
    postcode: str | None = Field(default=None, pattern=r"^\d{4}$", examples=["2150"])

    @field_validator("state")
    @classmethod
    def known_state(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in STATES:
            raise ValueError(f"must be one of {', '.join(STATES)}")
        return code


class LocationOut(BaseModel):
    suburb: str
    state: str
    postcode: str
    latitude: float | None
    longitude: float | None


class SalaryIn(BaseModel):
    """Money in integer cents, AUD."""

    model_config = ConfigDict(extra="forbid")

    minimum_cents: int = Field(ge=0, le=10_000_000_00, examples=[9_000_000])
    maximum_cents: int = Field(ge=0, le=10_000_000_00, examples=[11_000_000])
    currency: str = Field(default="AUD", pattern="^AUD$")
    period: SalaryPeriod = SalaryPeriod.annual

    @model_validator(mode="after")
    def ordered(self) -> SalaryIn:
        if self.maximum_cents < self.minimum_cents:
            raise ValueError("maximum_cents must not be below minimum_cents")
        return self


class SalaryOut(BaseModel):
    minimum_cents: int
    maximum_cents: int
    currency: str
    period: SalaryPeriod


class _JobFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=20, max_length=20_000)
    location: LocationIn
    salary: SalaryIn | None = None
    work_type: WorkType
    classification: str = Field(max_length=100)
    sub_classification: str | None = Field(default=None, max_length=100)
    company_name: str | None = Field(default=None, max_length=200)

    @field_validator("classification")
    @classmethod
    def known_classification(cls, value: str) -> str:
        if not is_classification(value):
            raise ValueError(f"{value!r} is not one of the 30 job classifications")
        return value

    @field_validator("sub_classification")
    @classmethod
    def known_sub_classification(cls, value: str | None, info: ValidationInfo) -> str | None:
        parent = info.data.get("classification")
        if value and parent and not is_classification(parent, value):
            raise ValueError(f"{value!r} is not a sub-classification of {parent!r}")
        return value


class JobCreate(_JobFields):
    pass


class JobUpdate(BaseModel):
    """Partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, min_length=20, max_length=20_000)
    location: LocationIn | None = None
    salary: SalaryIn | None = None
    work_type: WorkType | None = None
    classification: str | None = Field(default=None, max_length=100)
    sub_classification: str | None = Field(default=None, max_length=100)
    company_name: str | None = Field(default=None, max_length=200)


class JobOut(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    company_name: str | None
    title: str
    description: str
    location: LocationOut
    salary: SalaryOut | None
    work_type: WorkType
    classification: str
    sub_classification: str | None
    status: JobStatus
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    closed_at: datetime | None
