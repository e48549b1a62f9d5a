"""Email templates: Jinja2, one HTML layout plus an HTML and a plain-text template per
kind (``templates/``), Australian English, times in Australian time."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from aujobs_common.events import SecurityEventKind

from .models import CATEGORY_OF, EmailCategory, EmailKind

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_au_time(moment: datetime, zone: ZoneInfo) -> str:
    """``3:15 pm AEDT, Thursday 26 November 2026`` (locale-independent)."""
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    meridiem = "am" if local.hour < 12 else "pm"
    return (
        f"{hour}:{local.minute:02d} {meridiem} {local.tzname()}, "
        f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"
    )


def format_au_date(moment: datetime, zone: ZoneInfo) -> str:
    """``Thursday 26 November 2026``: the local date of ``moment`` (locale-independent)."""
    local = moment.astimezone(zone)
    return f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"


# headline (subject "Security alert: <headline>") and what to tell the user
_PROVIDERS = {"google": "Google", "linkedin": "LinkedIn"}


def _security_copy(kind: SecurityEventKind, detail: str | None) -> tuple[str, str]:
    provider = _PROVIDERS.get((detail or "").lower(), detail or "an external")
    copy: dict[SecurityEventKind, tuple[str, str]] = {
        SecurityEventKind.password_reset: (
            "your password was reset",
            "The password of your Australia Jobs account was reset, and every device was signed out.",
        ),
        SecurityEventKind.password_changed: (
            "your password was changed",
            "The password of your Australia Jobs account was changed.",
        ),
        SecurityEventKind.two_factor_enabled: (
            "two-step verification turned on",
            "Two-step verification was turned on for your account: signing in now also needs a "
            "code from your authenticator app.",
        ),
        SecurityEventKind.two_factor_disabled: (
            "two-step verification turned off",
            "Two-step verification was turned off for your account: signing in now needs only your password.",
        ),
        SecurityEventKind.provider_linked: (
            f"{provider} sign-in linked",
            f"Your account can now be signed in to with {provider}.",
        ),
        SecurityEventKind.provider_unlinked: (
            f"{provider} sign-in removed",
            f"Your account can no longer be signed in to with {provider}.",
        ),
        SecurityEventKind.all_sessions_revoked: (
            "signed out everywhere",
            "Your Australia Jobs account was signed out on every device.",
        ),
    }
    fallback = (kind.value.replace("_", " "), "A security setting of your account changed.")
    return copy.get(kind, fallback)


_SUBJECT_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class RenderedEmail:
    kind: EmailKind
    category: EmailCategory
    subject: str
    html: str
    text: str


class EmailRenderer:
    def __init__(self, *, frontend_url: str, timezone: str = "Australia/Sydney") -> None:
        self.frontend_url = frontend_url.rstrip("/")
        self.zone = ZoneInfo(timezone)
        self.env = Environment(
            loader=PackageLoader("aujobs_notifications", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self.env.filters["au_time"] = lambda moment: format_au_time(moment, self.zone)
        self.env.filters["au_date"] = lambda moment: format_au_date(moment, self.zone)

    def link(self, path: str, token: str) -> str:
        return f"{self.frontend_url}/{path}/{quote(token, safe='')}"

    def job_link(self, job_id: uuid.UUID, action: str | None = None) -> str:
        """The job ad's page in the employer area (renew, repost), or one of its actions."""
        return f"{self.frontend_url}/employer/jobs/{job_id}" + (f"/{action}" if action else "")

    def _render(
        self, kind: EmailKind, subject: str, *, to_address: str, preheader: str, **context: Any
    ) -> RenderedEmail:
        # A subject is one header line: no line breaks, whatever went into it.
        subject = _SUBJECT_SPACE.sub(" ", subject).strip()
        values = {
            "subject": subject,
            "preheader": preheader,
            "to_address": to_address,
            "frontend_url": self.frontend_url,
            "help_url": f"{self.frontend_url}/help",
            **context,
        }
        return RenderedEmail(
            kind=kind,
            category=CATEGORY_OF[kind],
            subject=subject,
            html=self.env.get_template(f"{kind.value}.html").render(values),
            text=self.env.get_template(f"{kind.value}.txt").render(values).strip() + "\n",
        )

    def verify_email(
        self, *, to_address: str, token: str, expires_at: datetime, reminder: bool
    ) -> RenderedEmail:
        return self._render(
            EmailKind.verify_email,
            "Verify your email (reminder)" if reminder else "Verify your email",
            to_address=to_address,
            preheader="Confirm your email address to finish setting up your account.",
            link=self.link("verify-email", token),
            expires_at=expires_at,
            reminder=reminder,
        )

    def password_reset(self, *, to_address: str, token: str, expires_at: datetime) -> RenderedEmail:
        return self._render(
            EmailKind.password_reset,
            "Reset your password",
            to_address=to_address,
            preheader=f"The link expires at {format_au_time(expires_at, self.zone)}.",
            link=self.link("reset-password", token),
            expires_at=expires_at,
        )

    def email_verified(self, *, to_address: str, verified_at: datetime) -> RenderedEmail:
        return self._render(
            EmailKind.email_verified,
            "Your email is verified",
            to_address=to_address,
            preheader="Thanks for confirming your email address.",
            verified_at=verified_at,
        )

    def security_alert(
        self, *, to_address: str, kind: SecurityEventKind, occurred_at: datetime, detail: str | None
    ) -> RenderedEmail:
        headline, explanation = _security_copy(kind, detail)
        return self._render(
            EmailKind.security_alert,
            f"Security alert: {headline}",
            to_address=to_address,
            preheader=explanation,
            headline=headline,
            explanation=explanation,
            occurred_at=occurred_at,
            reset_url=f"{self.frontend_url}/forgot-password",
        )

    def company_invitation(
        self, *, to_address: str, company_name: str, token: str, expires_at: datetime
    ) -> RenderedEmail:
        return self._render(
            EmailKind.company_invitation,
            f"You're invited to join {company_name} on Australia Jobs",
            to_address=to_address,
            preheader=f"Accept before {format_au_time(expires_at, self.zone)}.",
            company_name=company_name,
            link=self.link("companies/invitations", token),
            expires_at=expires_at,
        )

    def job_expiry_reminder(
        self, *, to_address: str, job_id: uuid.UUID, title: str, expires_at: datetime
    ) -> RenderedEmail:
        return self._render(
            EmailKind.job_expiry_reminder,
            f"Your job ad '{title}' expires on {format_au_date(expires_at, self.zone)}",
            to_address=to_address,
            preheader="Renew it to keep receiving applications.",
            title=title,
            expires_at=expires_at,
            link=self.job_link(job_id),
        )

    def job_expired(
        self, *, to_address: str, job_id: uuid.UUID, title: str, expired_at: datetime
    ) -> RenderedEmail:
        return self._render(
            EmailKind.job_expired,
            f"Your job ad '{title}' has expired",
            to_address=to_address,
            preheader="Renew or repost it to receive applications again.",
            title=title,
            expired_at=expired_at,
            link=self.job_link(job_id),
        )

    def job_rejected(
        self, *, to_address: str, job_id: uuid.UUID, title: str, reason: str | None
    ) -> RenderedEmail:
        return self._render(
            EmailKind.job_rejected,
            f"Your job ad '{title}' wasn't approved",
            to_address=to_address,
            preheader="Our moderators sent it back to you. Edit it and submit it again.",
            title=title,
            reason=(reason or "").strip() or None,
            link=self.job_link(job_id, "edit"),
        )

    def application_link(self, application_id: uuid.UUID) -> str:
        """The application in the job seeker's area."""
        return f"{self.frontend_url}/applications/{application_id}"

    def application_received(
        self, *, to_address: str, application_id: uuid.UUID, job_title: str, company_name: str | None
    ) -> RenderedEmail:
        at = f" at {company_name}" if company_name else ""
        return self._render(
            EmailKind.application_received,
            f"Application sent: {job_title}{at}",
            to_address=to_address,
            preheader="The employer has your application. We'll email you when its status changes.",
            job_title=job_title,
            company_name=company_name,
            link=self.application_link(application_id),
        )

    def application_status_changed(
        self,
        *,
        to_address: str,
        application_id: uuid.UUID,
        job_title: str,
        company_name: str | None,
        status: str,
        message: str | None,
    ) -> RenderedEmail:
        at = f" at {company_name}" if company_name else ""
        headline = APPLICATION_HEADLINES[status]
        return self._render(
            EmailKind.application_status_changed,
            f"{headline}: {job_title}{at}",
            to_address=to_address,
            preheader=APPLICATION_PREHEADERS[status],
            job_title=job_title,
            company_name=company_name,
            status=status,
            headline=headline,
            explanation=APPLICATION_PREHEADERS[status],
            message=(message or "").strip() or None,
            link=self.application_link(application_id),
        )


#: The status changes an applicant hears about (``reviewed`` is internal bookkeeping;
#: ``withdrawn`` is their own doing), and how each is put to them.
APPLICATION_HEADLINES: dict[str, str] = {
    "shortlisted": "You've been shortlisted",
    "interview": "Interview invitation",
    "offer": "You have a job offer",
    "hired": "Congratulations, you're hired",
    "rejected": "Update on your application",
}
APPLICATION_PREHEADERS: dict[str, str] = {
    "shortlisted": "The employer has shortlisted your application.",
    "interview": "The employer would like to interview you.",
    "offer": "The employer is making you an offer.",
    "hired": "The employer has marked you as hired.",
    "rejected": "The employer has decided not to progress your application.",
}
