"""Email for events that are not the auth service's: company invitations (addressed by
email) and job ad news for the ad's owner (addressed by user id, through the recipient
directory the service keeps from user events). Real PostgreSQL, real SMTP (aiosmtpd)."""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from aujobs_common.db import inbox_table
from aujobs_common.events import (
    CloudEvent,
    CompanyMemberInvited,
    JobExpired,
    JobExpiryReminder,
    JobLocation,
    JobPublished,
    JobRejected,
    JobStatus,
    JobUpdated,
    UserEmailVerified,
    UserPasswordResetRequested,
    UserRegistered,
    UserRole,
    WorkType,
)
from aujobs_common.observability import JsonFormatter
from aujobs_common.testing.waiting import eventually
from aujobs_notifications.directory import record_address
from aujobs_notifications.models import EmailMessage, Recipient

JOBS = "/services/jobs"
# 4:15 am UTC on 26 Nov 2026 is 3:15 pm in Sydney (daylight saving: AEDT)
EXPIRES = datetime(2026, 11, 26, 4, 15, tzinfo=UTC)
EXPIRES_AU = "3:15 pm AEDT, Thursday 26 November 2026"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)


def hrefs(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


async def mails_to(smtp, address, count=1):
    return await eventually(
        lambda: (
            (found := [m for m in smtp.messages() if address in m.rcpt_tos]) and len(found) >= count and found
        )
    )


async def logged(service, **params):
    """The delivery log's items once there are some matching ``params``."""
    return await eventually(lambda: _items(service, **params))


async def _items(service, **params):
    return (await service.deliveries(**params))["items"]


async def register(service, email, *, time=None):
    """A user the auth service registered (the directory learns their address)."""
    user_id = uuid.uuid4()
    now = datetime.now(UTC)
    await service.publish(
        UserRegistered(user_id=user_id, email=email, roles=[UserRole.employer], registered_at=now),
        time=time,
    )
    await service.bus.drain(5)
    return user_id


def snapshot(model, owner_id, *, title="Barista", **extra):
    now = datetime.now(UTC)
    return model(
        job_id=uuid.uuid4(),
        version=3,
        owner_id=owner_id,
        title=title,
        description="<p>Make great coffee.</p>",
        location=JobLocation(suburb="Surry Hills", state="NSW", postcode="2010"),
        work_type=WorkType.full_time,
        classification="hospitality",
        status=JobStatus.expired if model is JobExpired else JobStatus.draft,
        created_at=now - timedelta(days=30),
        updated_at=now,
        **extra,
    )


def reminder(owner_id, *, title="Café Barista, Surry Hills"):
    return JobExpiryReminder(job_id=uuid.uuid4(), owner_id=owner_id, title=title, expires_at=EXPIRES)


async def directory(service, user_id):
    async with service.db.session() as session:
        return await session.get(Recipient, user_id)


# ------------------------------------------------------------------ company invitation


async def test_invitation_email_reaches_the_invited_address_with_an_accept_link(service, smtp_server):
    invited = CompanyMemberInvited(
        company_id=uuid.uuid4(),
        company_name="Koala Coffee Co.",
        email="new.recruiter@example.com.au",
        token=secrets.token_urlsafe(32),
        expires_at=EXPIRES,
    )
    await service.publish(invited, source=JOBS)
    [mail] = await mails_to(smtp_server, invited.email)

    assert mail.rcpt_tos == [invited.email] and mail.message["To"] == invited.email
    assert mail.message["Subject"] == "You're invited to join Koala Coffee Co. on Australia Jobs"
    assert "Koala Coffee Co." in mail.text and "Koala Coffee Co." in mail.html
    assert EXPIRES_AU in mail.text and EXPIRES_AU in mail.html

    # the link: the frontend's invitation page, ending in exactly the issued token
    [text_link] = [u for u in re.findall(r"https?://\S+", mail.text) if "/invitations/" in u]
    assert text_link in hrefs(mail.html)
    link = urlsplit(text_link)
    assert f"{link.scheme}://{link.netloc}" == service.frontend
    prefix, _, token = link.path.rpartition("/")
    assert prefix == "/companies/invitations" and unquote(token) == invited.token

    [item] = await logged(service, kind="company_invitation", status="sent")
    assert item["to_address"] == invited.email and item["category"] == "transactional"
    assert item["user_id"] is None
    delivered = await eventually(lambda: service.delivered)
    assert delivered[0].data["kind"] == "company_invitation"
    assert delivered[0].data["message_id"] == item["id"]


# ------------------------------------------------------------------ job ads, through the directory


async def test_expiry_reminder_goes_to_the_registered_owner(service, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    email = "hiring.manager@example.com.au"
    owner = await register(service, email)
    payload = reminder(owner)
    await service.publish(payload, source=JOBS)
    [mail] = await mails_to(smtp_server, email)

    assert mail.message["Subject"] == (
        "Your job ad 'Café Barista, Surry Hills' expires on Thursday 26 November 2026"
    )
    assert "Café Barista, Surry Hills" in mail.text and "Café Barista, Surry Hills" in mail.html
    assert EXPIRES_AU in mail.text and EXPIRES_AU in mail.html
    renew = f"{service.frontend}/employer/jobs/{payload.job_id}"
    assert renew in re.findall(r"https?://\S+", mail.text) and renew in hrefs(mail.html)

    [item] = await logged(service, kind="job_expiry_reminder", status="sent")
    assert item["to_address"] == email and item["user_id"] == str(owner)
    delivered = await eventually(lambda: service.delivered)
    assert delivered[0].data["kind"] == "job_expiry_reminder"
    assert delivered[0].data["user_id"] == str(owner)

    # the service's own log records name ids, never the address
    formatter = JsonFormatter()
    ours = [r for r in caplog.records if r.name.startswith("aujobs")]
    assert ours and email not in "\n".join(formatter.format(r) for r in ours)


async def test_a_newer_address_replaces_the_old_one_and_a_late_older_event_does_not(service, smtp_server):
    old, new = "first.address@example.com.au", "second.address@example.com.au"
    t0 = datetime.now(UTC) - timedelta(hours=2)
    owner = await register(service, old, time=t0)
    assert (await directory(service, owner)).email == old

    # auth's newest word on the user: the address they verified
    await service.publish(
        UserEmailVerified(user_id=owner, email=new, verified_at=t0 + timedelta(hours=1)),
        time=t0 + timedelta(hours=1),
    )
    # an older event about the old address, delivered late
    await service.publish(
        UserPasswordResetRequested(
            user_id=owner, email=old, token=secrets.token_urlsafe(16), expires_at=EXPIRES
        ),
        time=t0 + timedelta(minutes=30),
    )
    await service.bus.drain(5)
    entry = await directory(service, owner)
    assert (entry.email, entry.verified) == (new, True)
    assert entry.updated_at == t0 + timedelta(hours=1)

    payload = reminder(owner, title="Sous Chef")
    await service.publish(payload, source=JOBS)
    [item] = await logged(service, kind="job_expiry_reminder", status="sent")
    assert item["to_address"] == new
    job_mails = [m for m in smtp_server.messages() if "Sous Chef" in m.message["Subject"]]
    assert [m.rcpt_tos for m in job_mails] == [[new]]


async def test_directory_verified_flag_follows_the_address(service):
    """Newest event wins the address; a verification counts for its address even when
    it arrives late; a different, newer address starts unverified."""
    user_id = uuid.uuid4()
    t = datetime(2026, 11, 1, tzinfo=UTC)

    async def apply(email, minutes, *, verified=False):
        async with service.db.transaction() as session:
            await record_address(
                session, user_id=user_id, email=email, verified=verified, at=t + timedelta(minutes=minutes)
            )
        entry = await directory(service, user_id)
        return entry.email, entry.verified

    assert await apply("a@example.com.au", 0) == ("a@example.com.au", False)
    assert await apply("A@Example.com.au", 20) == ("A@Example.com.au", False)
    assert await apply("a@example.com.au", 10, verified=True) == ("A@Example.com.au", True)  # late
    assert await apply("a@example.com.au", 30) == ("a@example.com.au", True)  # same address
    assert await apply("b@example.com.au", 40) == ("b@example.com.au", False)  # changed
    assert await apply("a@example.com.au", 35, verified=True) == ("b@example.com.au", False)  # stale
    assert await apply("b@example.com.au", 50, verified=True) == ("b@example.com.au", True)
    assert (await directory(service, user_id)).updated_at == t + timedelta(minutes=50)


async def test_expired_and_rejected_ads_are_emailed_to_the_owner(service, smtp_server):
    email = "owner@example.com.au"
    owner = await register(service, email)
    expired = snapshot(JobExpired, owner, title="Warehouse Picker", expires_at=EXPIRES)
    rejected = snapshot(
        JobRejected, owner, title="Cash Job", reason="Pay must meet the award.\nAdd a salary range."
    )
    await service.publish(expired, source=JOBS)
    await service.publish(rejected, source=JOBS)
    mails = {m.message["Subject"]: m for m in await mails_to(smtp_server, email, count=2)}

    gone = mails["Your job ad 'Warehouse Picker' has expired"]
    assert EXPIRES_AU in gone.text and "Renew or repost" in gone.html
    repost = f"{service.frontend}/employer/jobs/{expired.job_id}"
    assert repost in gone.text and repost in hrefs(gone.html)

    no = mails["Your job ad 'Cash Job' wasn't approved"]
    assert "Pay must meet the award.\nAdd a salary range." in no.text.replace("\r\n", "\n")
    assert "Pay must meet the award." in no.html
    edit = f"{service.frontend}/employer/jobs/{rejected.job_id}/edit"
    assert edit in no.text and edit in hrefs(no.html)

    items = await eventually(lambda: _all_sent(service, 2))
    assert {i["kind"] for i in items} == {"job_expired", "job_rejected"}


async def _all_sent(service, count):
    items = await _items(service)
    return len(items) >= count and all(i["status"] == "sent" for i in items) and items


async def test_rejection_without_a_reason_says_so(service, smtp_server):
    owner = await register(service, "no.reason@example.com.au")
    await service.publish(snapshot(JobRejected, owner, title="Cleaner"), source=JOBS)
    [mail] = await mails_to(smtp_server, "no.reason@example.com.au")
    assert "didn't give a reason" in mail.text and "didn't give a reason" in mail.html
    assert "The reason they gave" not in mail.text


async def test_other_job_events_send_nothing(service, smtp_server):
    owner = await register(service, "quiet@example.com.au")
    events = [
        await service.publish(snapshot(model, owner), source=JOBS) for model in (JobUpdated, JobPublished)
    ]
    # a job event the service does handle, published last: once it is mailed, the
    # others have been through the queue before it
    await service.publish(reminder(owner), source=JOBS)
    [mail] = await mails_to(smtp_server, "quiet@example.com.au")
    await service.bus.drain(5)
    assert mail.message["Subject"].startswith("Your job ad 'Café Barista, Surry Hills' expires")
    assert [i["kind"] for i in await _items(service)] == ["job_expiry_reminder"]
    async with service.db.session() as session:
        handled = set(
            (
                await session.scalars(
                    sa.select(inbox_table.c.event_id).where(inbox_table.c.event_type.like("au.jobs.job.%"))
                )
            ).all()
        )
    assert not handled & {e.id for e in events}  # not subscribed at all


# ------------------------------------------------------------------ an owner the directory doesn't know


async def test_unknown_owner_is_logged_undeliverable_and_the_next_event_still_works(service, smtp_server):
    stranger = uuid.uuid4()
    await service.publish(
        snapshot(JobExpired, stranger, title="Forklift Driver", expires_at=EXPIRES), source=JOBS
    )
    [item] = await logged(service, kind="job_expired")
    assert item["status"] == "failed" and item["last_error"] == "UnknownRecipient"
    assert item["to_address"] is None and item["user_id"] == str(stranger)
    assert item["attempts"] == 0 and item["sent_at"] is None
    assert item["subject"] == "Your job ad 'Forklift Driver' has expired"
    detail = await service.client.get(
        f"/api/v1/notifications/deliveries/{item['id']}", headers=service.admin()
    )
    assert detail.status_code == 200 and detail.json()["attempt_log"] == []
    async with service.db.session() as session:
        row = await session.get(EmailMessage, uuid.UUID(item["id"]))
    assert row.html is None and row.text is None

    # handled, not retried or dead-lettered; the subscription goes on
    await service.bus.drain(5)
    assert await service.bus.dead_letters("notifications") == []
    owner = await register(service, "known@example.com.au")
    await service.publish(reminder(owner), source=JOBS)
    [mail] = await mails_to(smtp_server, "known@example.com.au")
    assert "Barista" in mail.message["Subject"]
    assert len(smtp_server.messages()) == 1
    await eventually(lambda: len(service.delivered) == 1)
    assert service.delivered[0].data["kind"] == "job_expiry_reminder"
    assert len(await _items(service, status="failed")) == 1


# ------------------------------------------------------------------ idempotency and escaping


async def test_a_redelivered_job_event_sends_one_email(service, smtp_server):
    owner = await register(service, "once@example.com.au")
    event = await service.publish(reminder(owner), source=JOBS)
    await service.publish(None, event=CloudEvent.model_validate(event.model_dump()))
    await mails_to(smtp_server, "once@example.com.au")
    await service.bus.drain(5)
    await eventually(lambda: _all_sent(service, 1))
    assert len([m for m in smtp_server.messages() if "once@example.com.au" in m.rcpt_tos]) == 1
    assert len(await _items(service, kind="job_expiry_reminder")) == 1


async def test_user_text_is_escaped_in_the_html_part(service, smtp_server):
    owner = await register(service, "escaped@example.com.au")
    title = "<script>alert('x')</script> Chef & Cook"
    await service.publish(
        snapshot(JobRejected, owner, title=title, reason='<img src=x onerror="steal()"> Too vague'),
        source=JOBS,
    )
    await service.publish(
        CompanyMemberInvited(
            company_id=uuid.uuid4(),
            company_name="<b>Evil</b> & Co",
            email="escaped@example.com.au",
            token=secrets.token_urlsafe(32),
            expires_at=EXPIRES,
        ),
        source=JOBS,
    )
    mails = await mails_to(smtp_server, "escaped@example.com.au", count=2)
    rejected = next(m for m in mails if "approved" in m.message["Subject"])
    invited = next(m for m in mails if "invited" in m.message["Subject"])

    assert "<script>" not in rejected.html and "<img" not in rejected.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Chef &amp; Cook" in rejected.html
    assert "&lt;img src=x onerror=&#34;steal()&#34;&gt; Too vague" in rejected.html
    assert "<b>Evil</b>" not in invited.html and "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in invited.html
    # the plain-text part and the subject say it as it was written
    assert title in rejected.text and rejected.message["Subject"] == f"Your job ad '{title}' wasn't approved"
    assert "<b>Evil</b> & Co" in invited.text
