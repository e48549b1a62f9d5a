"""The search API's response models are the backend contract's (:mod:`.query`); they are
re-exported here so API modules import their schemas from one place."""

from __future__ import annotations

from .query import Facets, FacetValue, JobHit, SalaryHit, SearchResults

__all__ = ["FacetValue", "Facets", "JobHit", "SalaryHit", "SearchResults"]
