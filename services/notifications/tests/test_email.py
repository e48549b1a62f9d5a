"""Transactional email end to end: auth events on the bus → rendered, queued in the
service's database → delivered over SMTP to a real server (aiosmtpd) → delivery log
and ``notification.delivered``. The links in the mails are followed back to tokens."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from aujobs_common.events import (
    CloudEvent,
    SecurityEventKind,
    UserEmailVerificationRequested,
    UserEmailVerified,
    UserPasswordResetRequested,
    UserRegistered,
    UserRole,
    UserSecurityAlert,
)
from aujobs_common.observability import JsonFormatter
from aujobs_common.testing.waiting import eventually
from aujobs_notifications.consumer import user_event_handler
from aujobs_notifications.models import EmailMessage
from aujobs_notifications.rendering import EmailRenderer


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)


def hrefs(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


def verification(email="mia.nguyen@example.com.au", *, reminder=False, expires_at=None):
    return UserEmailVerificationRequested(
        user_id=uuid.uuid4(),
        email=email,
        token=secrets.token_urlsafe(32),
        # 4:15 am UTC on 26 Nov 2026 is 3:15 pm in Sydney (daylight saving: AEDT)
        expires_at=expires_at or datetime(2026, 11, 26, 4, 15, tzinfo=UTC),
        reminder=reminder,
    )


async def deliveries(service, **params):
    r = await service.client.get("/api/v1/notifications/deliveries", params=params, headers=service.admin())
    assert r.status_code == 200, r.text
    return r.json()


async def all_sent(service, count=1, **params):
    """The delivery log once ``count`` items are there and all are ``sent``: the SMTP
    server has the mail a moment before the sender records it as sent."""

    async def probe():
        log = await deliveries(service, **params)
        items = log["items"]
        return len(items) >= count and all(i["status"] == "sent" for i in items) and log

    return await eventually(probe)


async def mails_to(smtp, address, count=1):
    return await eventually(
        lambda: (
            (found := [m for m in smtp.messages() if address in m.rcpt_tos]) and len(found) >= count and found
        )
    )


# ------------------------------------------------------------------ the emails


async def test_verification_email_arrives_and_its_link_carries_the_token(service, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    payload = verification()
    await service.publish(payload)
    [mail] = await mails_to(smtp_server, payload.email)

    # the envelope and the headers
    assert mail.rcpt_tos == [payload.email]
    assert mail.mail_from == "no-reply@australiajobs.example"
    assert mail.message["To"] == payload.email
    assert mail.message["From"] == "Australia Jobs <no-reply@australiajobs.example>"
    assert mail.message["Subject"] == "Verify your email"
    assert mail.message.get_content_type() == "multipart/alternative"
    assert mail.message["Message-ID"].endswith("@australiajobs.example>")

    # both parts: the wording, the Australian expiry time, the link to the frontend
    expiry = "3:15 pm AEDT, Thursday 26 November 2026"
    assert expiry in mail.text and expiry in mail.html
    assert "organise your job search" in mail.text and "Just a reminder" not in mail.text
    text_links = re.findall(r"https?://\S+", mail.text)
    verify_links = [u for u in text_links if "/verify-email/" in u]
    assert len(verify_links) == 1
    html_links = [u for u in hrefs(mail.html) if "/verify-email/" in u]
    assert html_links and set(html_links) == set(verify_links)

    # follow the link: it is the frontend's verification page, and its last segment
    # is exactly the token the auth service issued
    link = urlsplit(verify_links[0])
    assert f"{link.scheme}://{link.netloc}" == service.frontend
    prefix, _, token = link.path.rpartition("/")
    assert prefix == "/verify-email"
    assert unquote(token) == payload.token

    # the delivery log and the event
    log = await all_sent(service)
    [item] = log["items"]
    assert item["status"] == "sent" and item["attempts"] == 1 and item["sent_at"]
    assert item["kind"] == "verify_email" and item["category"] == "transactional"
    assert item["to_address"] == payload.email and item["subject"] == "Verify your email"
    assert "html" not in item and "text" not in item
    delivered = await eventually(lambda: service.delivered)
    assert delivered[0].type == "au.jobs.notification.delivered.v1"
    assert delivered[0].data["message_id"] == item["id"]
    assert delivered[0].data["user_id"] == str(payload.user_id)
    assert delivered[0].data["kind"] == "verify_email" and delivered[0].data["channel"] == "email"

    # once sent, the stored bodies (one-time links) are gone
    async with service.db.session() as session:
        row = await session.get(EmailMessage, uuid.UUID(item["id"]))
    assert row.html is None and row.text is None

    # the token appears in no log record (message or structured fields)
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert caplog.records and payload.token not in logged


async def test_reminder_changes_the_wording(service, smtp_server):
    payload = verification("reminder@example.com.au", reminder=True)
    await service.publish(payload)
    [mail] = await mails_to(smtp_server, payload.email)
    assert mail.message["Subject"] == "Verify your email (reminder)"
    assert "Just a reminder" in mail.text and "haven't verified" in mail.html
    assert f"{service.frontend}/verify-email/{payload.token}" in mail.text


async def test_password_reset_email_with_sydney_expiry(service, smtp_server):
    payload = UserPasswordResetRequested(
        user_id=uuid.uuid4(),
        email="oliver.smith@example.com.au",
        token=secrets.token_urlsafe(32),
        # winter: standard time (AEST, UTC+10)
        expires_at=datetime(2026, 6, 18, 5, 30, tzinfo=UTC),
    )
    await service.publish(payload)
    [mail] = await mails_to(smtp_server, payload.email)
    assert mail.message["Subject"] == "Reset your password"
    assert "3:30 pm AEST, Thursday 18 June 2026" in mail.text
    assert "3:30 pm AEST, Thursday 18 June 2026" in mail.html
    [link] = [u for u in hrefs(mail.html) if "/reset-password/" in u][:1]
    assert link == f"{service.frontend}/reset-password/{payload.token}"
    assert link in mail.text
    [item] = (await all_sent(service, kind="password_reset"))["items"]
    assert item["category"] == "security" and item["status"] == "sent"


async def test_verified_confirmation_security_alert_and_no_welcome_mail(service, smtp_server):
    user_id = uuid.uuid4()
    email = "charlotte.wilson@example.com.au"
    now = datetime.now(UTC)
    registered = await service.publish(
        UserRegistered(user_id=user_id, email=email, roles=[UserRole.job_seeker], registered_at=now)
    )
    await service.publish(UserEmailVerified(user_id=user_id, email=email, verified_at=now))
    await service.publish(
        UserSecurityAlert(
            user_id=user_id,
            email=email,
            kind=SecurityEventKind.provider_linked,
            occurred_at=now,
            detail="google",
        )
    )
    mails = await mails_to(smtp_server, email, count=2)
    await service.bus.drain(5)
    subjects = sorted(m.message["Subject"] for m in mails)
    assert subjects == ["Security alert: Google sign-in linked", "Your email is verified"]
    alert = next(m for m in mails if m.message["Subject"].startswith("Security alert"))
    assert "help centre" in alert.text and f"{service.frontend}/forgot-password" in alert.text
    assert "whatever your email preferences" in alert.text
    log = await deliveries(service, recipient=email.upper())
    kinds = {i["kind"]: i["category"] for i in log["items"]}
    assert kinds == {"email_verified": "transactional", "security_alert": "security"}
    # user.registered sends nothing (the verification request is the welcome)
    async with service.db.session() as session:
        assert (
            await session.scalar(sa.select(sa.func.count()).where(EmailMessage.event_id == registered.id))
            == 0
        )


# ------------------------------------------------------------------ idempotency


async def test_a_redelivered_event_sends_one_email(service, smtp_server):
    payload = verification("redelivered@example.com.au")
    event = await service.publish(payload)
    await service.publish(payload, event=CloudEvent.model_validate(event.model_dump()))
    await mails_to(smtp_server, payload.email)
    await service.bus.drain(5)
    await asyncio.sleep(0.3)  # several sender rounds
    assert len([m for m in smtp_server.messages() if payload.email in m.rcpt_tos]) == 1
    assert len((await deliveries(service))["items"]) == 1

    # the event_id key holds even past the inbox (e.g. a second consumer name)
    handler = user_event_handler(EmailRenderer(frontend_url=service.frontend))
    for _ in range(2):
        async with service.db.transaction() as session:
            await handler(session, event)
    async with service.db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == 1


# ------------------------------------------------------------------ failures


async def test_smtp_down_keeps_the_mail_queued_with_back_off_then_delivers(
    make_service, start_smtp_server, unused_port
):
    service = await make_service(
        f"smtp://127.0.0.1:{unused_port}",
        mail_max_attempts=20,
        mail_retry_base_seconds=0.15,
        mail_retry_max_seconds=0.6,
    )
    payload = verification("patient@example.com.au")
    await service.publish(payload)

    async def retried():
        # three attempts recorded (``attempts`` counts a claim before its attempt is logged)
        items = (await deliveries(service))["items"]
        if not items:
            return None
        url = f"/api/v1/notifications/deliveries/{items[0]['id']}"
        detail = (await service.client.get(url, headers=service.admin())).json()
        return len(detail["attempt_log"]) >= 3 and detail

    detail = await eventually(retried)
    assert detail["status"] in {"queued", "sending"}
    log = detail["attempt_log"]
    assert log and {a["outcome"] for a in log} == {"retry"}
    assert all(a["error"] == "SMTPConnectError" for a in log)
    # exponential back-off: each wait is at least its back-off, which doubles (a busy
    # machine may only lengthen a wait, so the gaps are checked from below)
    times = [datetime.fromisoformat(a["attempted_at"]) for a in log[:3]]
    first_gap, second_gap = times[1] - times[0], times[2] - times[1]
    assert first_gap >= timedelta(seconds=0.15) and second_gap >= timedelta(seconds=0.30)
    assert service.delivered == []

    smtp = await start_smtp_server(port=unused_port)  # the server is back
    [mail] = await mails_to(smtp, payload.email)
    assert payload.token in mail.text

    async def sent():
        items = (await deliveries(service))["items"]
        return items[0]["status"] == "sent" and items[0]

    item = await eventually(sent)
    detail = (
        await service.client.get(f"/api/v1/notifications/deliveries/{item['id']}", headers=service.admin())
    ).json()
    assert detail["attempt_log"][-1]["outcome"] == "sent"
    assert detail["attempts"] == len(detail["attempt_log"]) and detail["last_error"] is None
    await eventually(lambda: service.delivered)


async def test_failed_for_good_after_max_attempts_and_on_a_permanent_refusal(
    make_service, smtp_server, unused_port
):
    service = await make_service(f"smtp://127.0.0.1:{unused_port}", mail_max_attempts=3)
    payload = verification("unlucky@example.com.au")
    await service.publish(payload)

    async def failed():
        items = (await deliveries(service, status="failed"))["items"]
        return items and items[0]

    item = await eventually(failed)
    assert item["attempts"] == 3 and item["last_error"] == "SMTPConnectError" and item["sent_at"] is None
    detail = (
        await service.client.get(f"/api/v1/notifications/deliveries/{item['id']}", headers=service.admin())
    ).json()
    assert [a["outcome"] for a in detail["attempt_log"]] == ["retry", "retry", "failed"]
    async with service.db.session() as session:
        row = await session.get(EmailMessage, uuid.UUID(item["id"]))
    assert row.html is None and row.text is None and row.status == "failed"

    # a 5xx refusal of the recipient is permanent: failed at the first attempt
    other = await make_service(smtp_server.url, mail_max_attempts=5)
    bounce = verification("bounce@example.com.au")
    await other.publish(bounce)

    async def bounced():
        items = (await deliveries(other, recipient=bounce.email, status="failed"))["items"]
        return items and items[0]

    item = await eventually(bounced)
    assert item["attempts"] == 1 and item["last_error"] == "SMTPRecipientsRefused (550)"
    assert service.delivered == [] and other.delivered == []


# ------------------------------------------------------------------ the delivery log API


async def test_delivery_log_is_admin_only_filtered_and_paginated(service, smtp_server):
    url = "/api/v1/notifications/deliveries"
    assert (await service.client.get(url)).status_code == 401
    seeker = service.tokens.headers(roles=["job_seeker"])
    r = await service.client.get(url, headers=seeker)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    employer = service.tokens.headers(roles=["employer"])
    assert (await service.client.get(url, headers=employer)).status_code == 403

    now = datetime.now(UTC)
    for i in range(5):
        await service.publish(
            UserEmailVerified(user_id=uuid.uuid4(), email=f"user{i}@example.com.au", verified_at=now)
        )
    await service.publish(verification("someone.else@example.com.au"))
    await eventually(lambda: len(smtp_server.messages()) == 6)

    seen: list[dict] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, "kind": "email_verified"} | ({"cursor": cursor} if cursor else {})
        page = await deliveries(service, **params)
        pages += 1
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == 5 and len({i["id"] for i in seen}) == 5
    assert all(i["kind"] == "email_verified" for i in seen)
    stamps = [(i["created_at"], i["id"]) for i in seen]
    assert stamps == sorted(stamps, reverse=True)  # newest first, stable

    await all_sent(service, count=6)
    assert len((await deliveries(service, status="sent"))["items"]) == 6
    assert (await deliveries(service, status="failed"))["items"] == []
    only = await deliveries(service, recipient="User3@Example.com.au")
    assert [i["to_address"] for i in only["items"]] == ["user3@example.com.au"]

    bad = await service.client.get(url, params={"status": "lost"}, headers=service.admin())
    assert bad.status_code == 422
    bad = await service.client.get(url, params={"cursor": "%%%"}, headers=service.admin())
    assert bad.status_code == 400
    bad = await service.client.get(url, params={"limit": 1000}, headers=service.admin())
    assert bad.status_code == 422
    missing = await service.client.get(f"{url}/{uuid.uuid4()}", headers=service.admin())
    assert missing.status_code == 404


# ------------------------------------------------------------------ the development sink


async def test_dev_sink_shows_the_mail_the_service_sent(make_service):
    from fastapi import FastAPI

    from aujobs_notifications.devmail import DevMailSink, create_devmail_router

    sink = DevMailSink()
    await sink.start()
    try:
        service = await make_service(sink.url)
        payload = verification("developer@example.com.au")
        await service.publish(payload)
        await eventually(lambda: sink.mailbox.messages())

        web = FastAPI()
        web.include_router(create_devmail_router(sink.mailbox))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://dev") as client:
            [mail] = (await client.get("/dev/mail.json")).json()
            assert set(mail) >= {"id", "to", "from", "subject", "text", "html", "received_at"}
            assert mail["to"] == payload.email and mail["subject"] == "Verify your email"
            assert mail["from"] == "Australia Jobs <no-reply@australiajobs.example>"
            link = f"{service.frontend}/verify-email/{payload.token}"
            assert link in mail["text"] and link in mail["html"]
            datetime.fromisoformat(mail["received_at"])

            page = await client.get("/dev/mail")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert link in hrefs(page.text)  # clickable
            assert "Verify your email" in page.text and payload.email in page.text
            assert "script-src" not in page.headers["content-security-policy"]

            as_html = await client.get(f"/dev/mail/{mail['id']}")
            assert as_html.status_code == 200 and "sandbox" in as_html.headers["content-security-policy"]
            assert (await client.get("/dev/mail/nope")).status_code == 404
    finally:
        await sink.stop()


@pytest.mark.parametrize("newest", [3])
async def test_dev_mailbox_is_bounded_newest_first(newest):
    from aujobs_notifications.devmail import DevMailbox

    box = DevMailbox(capacity=newest)
    for i in range(5):
        box.add_raw(f"To: a@b.example\r\nSubject: n{i}\r\n\r\nbody {i}\r\n".encode())
    assert [m.subject for m in box.messages()] == ["n4", "n3", "n2"]
    assert box.messages()[0].text.strip() == "body 4"
