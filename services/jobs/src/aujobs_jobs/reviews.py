"""Company reviews: submission with spam checks, moderation, votes, reports, the
company's response, listings and aggregate ratings. Functions work in the caller's
session and never commit; each takes ``now`` so tests can move the clock.

Rules worth knowing:

* One review per author per company per ``review_cooldown_days``, counted over every
  review the author submitted in that window whatever became of it: a rejected review
  (often spam) and one the author withdrew still count, so neither rejection nor
  deleting resets the clock.
* A new review is ``pending``; one that trips a spam check is ``held`` with the
  machine-readable reasons. Both wait for an admin, who publishes or rejects.
* Only ``published`` reviews are public and count in the aggregates. Reaching
  ``REPORT_THRESHOLD`` reports since the last decision sends a review back to
  moderation (``held``, reason ``reported``).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.events import ReviewPublished, ReviewUnpublished
from aujobs_common.ids import uuid7
from aujobs_common.outbox import enqueue
from aujobs_common.pagination import PageParams, cursor_uuid, encode_cursor
from aujobs_common.security import Principal

from .companies import get_company
from .models import Company
from .review_models import RATING_FIELDS, CompanyReview, ReviewReport, ReviewResponse, ReviewVote
from .review_schemas import (
    CategoryAverages,
    CompanyResponseOut,
    EmploymentStatus,
    ModerationItem,
    Ratings,
    RatingSummary,
    ReportOut,
    ReviewCreate,
    ReviewOut,
    ReviewSort,
    ReviewStatus,
)
from .settings import JobsSettings

SOURCE = "/services/jobs"
REPORT_THRESHOLD = 3
MIN_WORDS = 20

# ---------------------------------------------------------------- spam checks

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
LINK = re.compile(
    r"(?i)(?:\bhttps?://|\bwww\.)\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|biz|info|au|xyz|ly|me|app|dev|site|online)\b"
)
# Eight or more digits with at most two separators between them: a phone number, not
# a year range ("2019 - 2023") or a salary.
PHONE = re.compile(r"\+?\d(?:[\s().-]{0,2}\d){7,}")
REPEATED_CHARACTER = re.compile(r"(\S)\1{5,}")
REPEATED_WORD = re.compile(r"(?i)\b(\w+)(?:\W+\1\b){3,}")
WORD = re.compile(r"[\w']+")


def _normalise(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def text_fingerprint(pros: str, cons: str) -> str:
    """Same words in the same order, ignoring case, spacing and punctuation."""
    return hashlib.sha256(f"{_normalise(pros)}\n{_normalise(cons)}".encode()).hexdigest()


def _ip_hash(ip: str | None) -> str | None:
    return hashlib.sha256(f"review-ip:{ip}".encode()).hexdigest() if ip else None


def _low_variety(words: list[str]) -> bool:
    """Few distinct words among many: the same few words pasted over and over."""
    sample = words[:200]
    return len(sample) >= 20 and len(set(sample)) / len(sample) < 0.3


def content_reasons(data: ReviewCreate) -> list[str]:
    """The spam signals in the text alone, in a stable order."""
    text = "\n".join((data.title, data.pros, data.cons, data.job_title or ""))
    reasons: list[str] = []
    if EMAIL.search(text):
        reasons.append("contains_email")
    if LINK.search(EMAIL.sub(" ", text)):
        reasons.append("contains_link")
    if PHONE.search(text):
        reasons.append("contains_phone")
    words = WORD.findall(f"{data.pros} {data.cons}".lower())
    if (
        REPEATED_CHARACTER.search(text)
        or REPEATED_WORD.search(text)
        or _low_variety(words)
        or _normalise(data.pros) == _normalise(data.cons)
    ):
        reasons.append("repeated_text")
    if len(words) < MIN_WORDS:
        reasons.append("too_short")
    return reasons


async def _count_since(session: AsyncSession, where: sa.ColumnElement[bool], since: datetime) -> int:
    query = sa.select(sa.func.count()).where(where, CompanyReview.created_at > since)
    return int(await session.scalar(query) or 0)


async def _history_reasons(
    session: AsyncSession,
    *,
    author_id: uuid.UUID,
    ip_hash: str | None,
    fingerprint: str,
    settings: JobsSettings,
    now: datetime,
) -> list[str]:
    """Signals that need earlier reviews: the same text posted before (by anyone), and
    more than ``review_burst_limit`` reviews from one account or address in the window."""
    reasons: list[str] = []
    duplicate = await session.scalar(
        sa.select(sa.literal(True)).where(CompanyReview.text_fingerprint == fingerprint).limit(1)
    )
    if duplicate:
        reasons.append("duplicate_text")
    since = now - timedelta(minutes=settings.review_burst_window_minutes)
    if (
        await _count_since(session, CompanyReview.author_id == author_id, since)
        >= settings.review_burst_limit
    ):
        reasons.append("burst_account")
    if (
        ip_hash is not None
        and await _count_since(session, CompanyReview.client_ip_hash == ip_hash, since)
        >= settings.review_burst_limit
    ):
        reasons.append("burst_ip")
    return reasons


# ---------------------------------------------------------------- submission


async def _lock_author(session: AsyncSession, author_id: uuid.UUID) -> None:
    """Serialise one author's submissions so two at once cannot both pass the
    one-per-year rule or the burst count."""
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(f"review-author:{author_id}", 0)))
    )


async def _check_cooldown(
    session: AsyncSession,
    *,
    author_id: uuid.UUID,
    company_id: uuid.UUID,
    settings: JobsSettings,
    now: datetime,
) -> None:
    cooldown = timedelta(days=settings.review_cooldown_days)
    latest = await session.scalar(
        sa.select(sa.func.max(CompanyReview.created_at)).where(
            CompanyReview.author_id == author_id,
            CompanyReview.company_id == company_id,
            CompanyReview.created_at > now - cooldown,
        )
    )
    if latest is None:
        return
    again = latest + cooldown
    raise ProblemError(
        409,
        f"You reviewed this company recently; you can review it again from {again.isoformat()}.",
        type_="review-limit",
        errors=[FieldError(field="company_id", message=f"next review allowed from {again.isoformat()}")],
        headers={"Retry-After": str(max(1, int((again - now).total_seconds())))},
    )


async def create_review(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    author: Principal,
    data: ReviewCreate,
    settings: JobsSettings,
    client_ip: str | None = None,
    now: datetime | None = None,
) -> CompanyReview:
    """A new review, ``pending`` or (when a spam check fires) ``held`` with reasons."""
    now = now or datetime.now(UTC)
    await get_company(session=session, company_id=company_id)
    await _lock_author(session, author.user_id)
    await _check_cooldown(
        session, author_id=author.user_id, company_id=company_id, settings=settings, now=now
    )
    fingerprint = text_fingerprint(data.pros, data.cons)
    ip_hash = _ip_hash(client_ip)
    reasons = content_reasons(data) + await _history_reasons(
        session,
        author_id=author.user_id,
        ip_hash=ip_hash,
        fingerprint=fingerprint,
        settings=settings,
        now=now,
    )
    review = CompanyReview(
        id=uuid7(),
        company_id=company_id,
        author_id=author.user_id,
        anonymous=data.anonymous,
        **data.ratings.model_dump(),
        title=data.title,
        pros=data.pros,
        cons=data.cons,
        job_title=data.job_title,
        employment_status=data.employment_status.value if data.employment_status else None,
        location_state=data.location_state,
        status="held" if reasons else "pending",
        hold_reasons=reasons,
        text_fingerprint=fingerprint,
        client_ip_hash=ip_hash,
        helpful_count=0,
        open_report_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(review)
    await session.flush()
    return review


# ---------------------------------------------------------------- reading


def _review_not_found() -> ProblemError:
    return ProblemError(404, "No such review.", type_="review-not-found")


def can_see(review: CompanyReview, viewer: Principal | None) -> bool:
    """Published reviews are public; authors see their own (until withdrawn); admins all."""
    if review.status == "published":
        return True
    if viewer is None:
        return False
    return viewer.is_admin or (viewer.user_id == review.author_id and review.status != "withdrawn")


async def get_review(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    review_id: uuid.UUID,
    viewer: Principal | None,
    for_update: bool = False,
) -> CompanyReview:
    """The review when ``viewer`` may see it; otherwise 404 (never revealing it exists)."""
    review = await session.get(CompanyReview, review_id, with_for_update=for_update)
    if review is None or review.company_id != company_id or not can_see(review, viewer):
        raise _review_not_found()
    return review


async def _published(
    session: AsyncSession, company_id: uuid.UUID, review_id: uuid.UUID, *, for_update: bool = False
) -> CompanyReview:
    """The review when it is public: votes, reports and responses are for those only."""
    return await get_review(
        session=session, company_id=company_id, review_id=review_id, viewer=None, for_update=for_update
    )


async def responses_for(
    *, session: AsyncSession, review_ids: list[uuid.UUID]
) -> dict[uuid.UUID, ReviewResponse]:
    if not review_ids:
        return {}
    rows = await session.scalars(sa.select(ReviewResponse).where(ReviewResponse.review_id.in_(review_ids)))
    return {r.review_id: r for r in rows}


def to_out(
    review: CompanyReview, *, viewer: Principal | None, response: ReviewResponse | None = None
) -> ReviewOut:
    reveal = not review.anonymous or (
        viewer is not None and (viewer.is_admin or viewer.user_id == review.author_id)
    )
    return ReviewOut(
        id=review.id,
        company_id=review.company_id,
        author_id=review.author_id if reveal else None,
        anonymous=review.anonymous,
        ratings=Ratings(**{name: getattr(review, name) for name in RATING_FIELDS}),
        title=review.title,
        pros=review.pros,
        cons=review.cons,
        job_title=review.job_title,
        employment_status=EmploymentStatus(review.employment_status) if review.employment_status else None,
        location_state=review.location_state,
        status=ReviewStatus(review.status),
        rejection_reason=review.rejection_reason if review.status == "rejected" else None,
        helpful_count=review.helpful_count,
        created_at=review.created_at,
        published_at=review.published_at,
        company_response=(
            CompanyResponseOut(
                body=response.body, created_at=response.created_at, updated_at=response.updated_at
            )
            if response is not None
            else None
        ),
    )


async def outs(
    *, session: AsyncSession, reviews: list[CompanyReview], viewer: Principal | None
) -> list[ReviewOut]:
    """Reviews with their company responses, as ``viewer`` may see them."""
    responses = await responses_for(session=session, review_ids=[r.id for r in reviews])
    return [to_out(r, viewer=viewer, response=responses.get(r.id)) for r in reviews]


@dataclass(frozen=True)
class _SortKey:
    column: Any  # the primary sort column, or None for newest first
    descending: bool


SORT_KEYS = {
    ReviewSort.newest: _SortKey(None, True),
    ReviewSort.most_helpful: _SortKey(CompanyReview.helpful_count, True),
    ReviewSort.highest: _SortKey(CompanyReview.overall, True),
    ReviewSort.lowest: _SortKey(CompanyReview.overall, False),
}


def _invalid_cursor() -> ProblemError:
    return ProblemError(
        400, "The cursor is not valid; use next_cursor from a previous page.", type_="invalid-cursor"
    )


def _after(cursor: dict[str, Any], sort: ReviewSort) -> sa.ColumnElement[bool]:
    """Rows after the cursor's row in ``sort`` order (ties: newest published, then id)."""
    try:
        if cursor.get("sort") != sort.value:
            raise ValueError("cursor belongs to another sort order")
        published_at = datetime.fromisoformat(str(cursor["published_at"]))
        review_id = uuid.UUID(str(cursor["id"]))
        key = SORT_KEYS[sort]
        value = int(cursor["key"]) if key.column is not None else None
    except (KeyError, TypeError, ValueError) as exc:
        raise _invalid_cursor() from exc
    tie = sa.tuple_(CompanyReview.published_at, CompanyReview.id) < sa.tuple_(
        sa.literal(published_at, CompanyReview.published_at.type),
        sa.literal(review_id, CompanyReview.id.type),
    )
    if key.column is None:
        return tie
    beyond = key.column < value if key.descending else key.column > value
    return sa.or_(beyond, sa.and_(key.column == value, tie))


async def list_reviews(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    page: PageParams,
    sort: ReviewSort = ReviewSort.newest,
    min_rating: int | None = None,
    max_rating: int | None = None,
    employment_status: EmploymentStatus | None = None,
) -> tuple[list[CompanyReview], str | None]:
    """Published reviews of a company, filtered by overall rating and employment status."""
    await get_company(session=session, company_id=company_id)
    if min_rating is not None and max_rating is not None and min_rating > max_rating:
        raise ProblemError(
            422,
            "min_rating must not be above max_rating.",
            type_="validation-error",
            errors=[FieldError(field="query.min_rating", message="must not be above max_rating")],
        )
    query = sa.select(CompanyReview).where(
        CompanyReview.company_id == company_id, CompanyReview.status == "published"
    )
    if min_rating is not None:
        query = query.where(CompanyReview.overall >= min_rating)
    if max_rating is not None:
        query = query.where(CompanyReview.overall <= max_rating)
    if employment_status is not None:
        query = query.where(CompanyReview.employment_status == employment_status.value)
    if page.cursor is not None:
        query = query.where(_after(page.cursor, sort))
    key = SORT_KEYS[sort]
    order: list[Any] = []
    if key.column is not None:
        order.append(key.column.desc() if key.descending else key.column.asc())
    order += [CompanyReview.published_at.desc(), CompanyReview.id.desc()]
    rows = list((await session.scalars(query.order_by(*order).limit(page.limit + 1))).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = rows[-1]
        next_cursor = encode_cursor(
            {
                "sort": sort.value,
                "key": getattr(last, key.column.key) if key.column is not None else None,
                "published_at": last.published_at.isoformat() if last.published_at else None,
                "id": str(last.id),
            }
        )
    return rows, next_cursor


async def list_mine(
    *, session: AsyncSession, author_id: uuid.UUID, page: PageParams
) -> tuple[list[CompanyReview], str | None]:
    """The author's reviews in any status but withdrawn, newest first."""
    query = sa.select(CompanyReview).where(
        CompanyReview.author_id == author_id, CompanyReview.status != "withdrawn"
    )
    after = cursor_uuid(page)
    if after is not None:
        query = query.where(CompanyReview.id < after)
    rows = list((await session.scalars(query.order_by(CompanyReview.id.desc()).limit(page.limit + 1))).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor({"id": str(rows[-1].id)})
    return rows, next_cursor


# ---------------------------------------------------------------- aggregates


def _empty_summary(company_id: uuid.UUID) -> RatingSummary:
    return RatingSummary(
        company_id=company_id,
        review_count=0,
        averages=CategoryAverages(**dict.fromkeys(RATING_FIELDS)),
        distribution=dict.fromkeys(range(1, 6), 0),
    )


async def rating_summaries(
    *, session: AsyncSession, company_ids: list[uuid.UUID]
) -> dict[uuid.UUID, RatingSummary]:
    """Aggregate ratings of published reviews for each company asked about (companies
    without reviews get a zero summary), in one query."""
    summaries = {cid: _empty_summary(cid) for cid in company_ids}
    if not company_ids:
        return summaries
    columns = [CompanyReview.company_id, sa.func.count().label("n")]
    columns += [sa.func.avg(getattr(CompanyReview, name)).label(name) for name in RATING_FIELDS]
    columns += [
        sa.func.count().filter(CompanyReview.overall == star).label(f"s{star}") for star in range(1, 6)
    ]
    query = (
        sa.select(*columns)
        .where(CompanyReview.company_id.in_(company_ids), CompanyReview.status == "published")
        .group_by(CompanyReview.company_id)
    )
    for row in (await session.execute(query)).mappings():
        summaries[row["company_id"]] = RatingSummary(
            company_id=row["company_id"],
            review_count=row["n"],
            averages=CategoryAverages(**{name: round(float(row[name]), 2) for name in RATING_FIELDS}),
            distribution={star: row[f"s{star}"] for star in range(1, 6)},
        )
    return summaries


async def rating_summary(*, session: AsyncSession, company_id: uuid.UUID) -> RatingSummary:
    return (await rating_summaries(session=session, company_ids=[company_id]))[company_id]


def employer_aggregate_rating(company: Company, summary: RatingSummary) -> dict[str, Any] | None:
    """schema.org EmployerAggregateRating for search engines; none without reviews."""
    if summary.review_count == 0 or summary.averages.overall is None:
        return None
    organization: dict[str, Any] = {"@type": "Organization", "name": company.name}
    if company.website:
        organization["sameAs"] = company.website
    return {
        "@context": "https://schema.org",
        "@type": "EmployerAggregateRating",
        "itemReviewed": organization,
        "ratingValue": summary.averages.overall,
        "bestRating": 5,
        "worstRating": 1,
        "ratingCount": summary.review_count,
    }


# ---------------------------------------------------------------- moderation


async def moderation_queue(
    *, session: AsyncSession, page: PageParams
) -> tuple[list[CompanyReview], dict[uuid.UUID, list[ReviewReport]], str | None]:
    """Pending and held reviews, oldest first, with their reports."""
    query = sa.select(CompanyReview).where(CompanyReview.status.in_(("pending", "held")))
    if page.cursor is not None:
        try:
            created_at = datetime.fromisoformat(str(page.cursor["created_at"]))
            after_id = uuid.UUID(str(page.cursor["id"]))
        except (KeyError, ValueError) as exc:
            raise _invalid_cursor() from exc
        query = query.where(
            sa.tuple_(CompanyReview.created_at, CompanyReview.id)
            > sa.tuple_(
                sa.literal(created_at, CompanyReview.created_at.type),
                sa.literal(after_id, CompanyReview.id.type),
            )
        )
    query = query.order_by(CompanyReview.created_at, CompanyReview.id).limit(page.limit + 1)
    rows = list((await session.scalars(query)).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor({"created_at": rows[-1].created_at.isoformat(), "id": str(rows[-1].id)})
    reports: dict[uuid.UUID, list[ReviewReport]] = {r.id: [] for r in rows}
    if rows:
        found = await session.scalars(
            sa.select(ReviewReport)
            .where(ReviewReport.review_id.in_(list(reports)))
            .order_by(ReviewReport.created_at, ReviewReport.user_id)
        )
        for report in found:
            reports[report.review_id].append(report)
    return rows, reports, next_cursor


def moderation_item(
    review: CompanyReview,
    *,
    moderator: Principal,
    response: ReviewResponse | None,
    reports: list[ReviewReport],
) -> ModerationItem:
    base = to_out(review, viewer=moderator, response=response)
    return ModerationItem(
        **base.model_dump(),
        hold_reasons=list(review.hold_reasons or []),
        open_report_count=review.open_report_count,
        reports=[ReportOut(user_id=r.user_id, reason=r.reason, created_at=r.created_at) for r in reports],
        moderated_at=review.moderated_at,
    )


async def decide(
    *,
    session: AsyncSession,
    review_id: uuid.UUID,
    moderator: Principal,
    approve: bool,
    reason: str | None,
    now: datetime | None = None,
) -> CompanyReview:
    """Publish or reject a pending or held review. Publishing announces the review with
    the company's new aggregate (``au.jobs.review.published.v1``)."""
    now = now or datetime.now(UTC)
    reason = reason.strip() if reason else None
    if not approve and not reason:
        raise ProblemError(
            422,
            "A reason is required when rejecting a review.",
            type_="validation-error",
            errors=[FieldError(field="reason", message="required when approve is false")],
        )
    review = await session.get(CompanyReview, review_id, with_for_update=True)
    if review is None or review.status == "withdrawn":
        raise _review_not_found()
    if review.status not in ("pending", "held"):
        raise ProblemError(
            409,
            f"Only a pending or held review can be decided; this one is {review.status}.",
            type_="invalid-transition",
        )
    review.moderated_by = moderator.user_id
    review.moderated_at = now
    review.updated_at = now
    review.open_report_count = 0
    if not approve:
        review.status = "rejected"
        review.rejection_reason = reason
        await session.flush()
        return review
    review.status = "published"
    review.rejection_reason = None
    review.published_at = review.published_at or now
    await session.flush()
    summary = await rating_summary(session=session, company_id=review.company_id)
    event = ReviewPublished(
        review_id=review.id,
        company_id=review.company_id,
        overall=review.overall,
        published_at=review.published_at,
        company_rating_average=summary.averages.overall or 0.0,
        company_review_count=summary.review_count,
    )
    await enqueue(session, event.to_event(source=SOURCE, subject=str(review.id)))
    return review


# ---------------------------------------------------------------- author actions


async def withdraw(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    review_id: uuid.UUID,
    author: Principal,
    now: datetime | None = None,
) -> None:
    """The author takes their review down. It stays on record (``withdrawn``) so it
    still counts towards the one-review-per-year rule."""
    now = now or datetime.now(UTC)
    review = await get_review(
        session=session, company_id=company_id, review_id=review_id, viewer=author, for_update=True
    )
    if review.author_id != author.user_id:
        raise ProblemError(403, "Only the author may delete this review.", type_="not-review-author")
    was_published = review.status == "published"
    review.status = "withdrawn"
    review.withdrawn_at = now
    review.updated_at = now
    await session.flush()
    if was_published:
        await _unpublished(session, review, "withdrawn", now)


async def _unpublished(session: AsyncSession, review: CompanyReview, reason: str, now: datetime) -> None:
    """Tells consumers a review left the site, with the company's new aggregate."""
    summary = await rating_summary(session=session, company_id=review.company_id)
    event = ReviewUnpublished(
        review_id=review.id,
        company_id=review.company_id,
        reason=reason,
        unpublished_at=now,
        company_rating_average=summary.averages.overall or 0.0,
        company_review_count=summary.review_count,
    )
    await enqueue(session, event.to_event(source=SOURCE, subject=str(review.id)))


# ---------------------------------------------------------------- votes and reports


def _not_on_own(review: CompanyReview, principal: Principal, what: str) -> None:
    if review.author_id == principal.user_id:
        raise ProblemError(403, f"You cannot {what} your own review.", type_="own-review")


async def vote(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    review_id: uuid.UUID,
    voter: Principal,
    helpful: bool,
    now: datetime | None = None,
) -> CompanyReview:
    """Add (``helpful``) or remove the caller's helpful vote; repeating either is a no-op."""
    now = now or datetime.now(UTC)
    review = await _published(session, company_id, review_id)
    _not_on_own(review, voter, "vote on")
    if helpful:
        changed = await session.execute(
            insert(ReviewVote)
            .values(review_id=review.id, user_id=voter.user_id, created_at=now)
            .on_conflict_do_nothing()
            .returning(ReviewVote.user_id)
        )
        delta = 1
    else:
        changed = await session.execute(
            sa.delete(ReviewVote)
            .where(ReviewVote.review_id == review.id, ReviewVote.user_id == voter.user_id)
            .returning(ReviewVote.user_id)
        )
        delta = -1
    if changed.first() is not None:
        # An increment, not a recount: concurrent voters each add their own one.
        await session.execute(
            sa.update(CompanyReview)
            .where(CompanyReview.id == review.id)
            .values(helpful_count=CompanyReview.helpful_count + delta)
        )
        await session.refresh(review, ["helpful_count"])
    return review


async def has_voted(*, session: AsyncSession, review_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return await session.get(ReviewVote, (review_id, user_id)) is not None


async def report(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    review_id: uuid.UUID,
    reporter: Principal,
    reason: str,
    threshold: int = REPORT_THRESHOLD,
    now: datetime | None = None,
) -> ReviewReport:
    """Report a published review once; the ``threshold``-th report since the last
    moderation decision takes it off the site and back to moderation."""
    now = now or datetime.now(UTC)
    review = await _published(session, company_id, review_id, for_update=True)
    _not_on_own(review, reporter, "report")
    if await session.get(ReviewReport, (review.id, reporter.user_id)) is not None:
        raise ProblemError(409, "You have already reported this review.", type_="already-reported")
    row = ReviewReport(review_id=review.id, user_id=reporter.user_id, reason=reason, created_at=now)
    session.add(row)
    review.open_report_count += 1
    if review.open_report_count >= threshold:
        review.status = "held"
        review.hold_reasons = [*[r for r in review.hold_reasons or [] if r != "reported"], "reported"]
        review.updated_at = now
        await session.flush()
        await _unpublished(session, review, "reported", now)
        return row
    await session.flush()
    return row


# ---------------------------------------------------------------- company response


async def respond(
    *,
    session: AsyncSession,
    company_id: uuid.UUID,
    review_id: uuid.UUID,
    responder: Principal,
    body: str,
    now: datetime | None = None,
) -> tuple[CompanyReview, ReviewResponse]:
    """Set the company's one public response to a published review (replacing any
    earlier one). The caller must already be checked as a company member."""
    now = now or datetime.now(UTC)
    review = await _published(session, company_id, review_id)
    response = await session.get(ReviewResponse, review.id, with_for_update=True)
    if response is None:
        response = ReviewResponse(review_id=review.id, created_at=now)
        session.add(response)
    response.body = body
    response.responded_by = responder.user_id
    response.updated_at = now
    await session.flush()
    return review, response


async def remove_response(*, session: AsyncSession, company_id: uuid.UUID, review_id: uuid.UUID) -> None:
    review = await _published(session, company_id, review_id)
    response = await session.get(ReviewResponse, review.id, with_for_update=True)
    if response is None:
        raise ProblemError(404, "This review has no company response.", type_="response-not-found")
    await session.delete(response)
    await session.flush()
