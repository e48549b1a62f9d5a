"""The development mail sink (embedded mode, DESIGN.md §2): a real SMTP server
(aiosmtpd, on 127.0.0.1 and a free port) that keeps what it receives in memory, and a
router that shows it — ``GET /dev/mail`` (HTML, links clickable) and
``GET /dev/mail.json``. Never part of a deployed service: the embedded runner mounts
the router on its gateway."""

from __future__ import annotations

import asyncio
import html
import re
import socket
import threading
import uuid
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

from aujobs_common.errors import problem_response


@dataclass(frozen=True)
class DevMail:
    id: str
    to: str
    from_: str
    subject: str
    text: str
    html: str
    received_at: datetime
    envelope_to: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["from"] = doc.pop("from_")
        doc["envelope_to"] = list(self.envelope_to)
        doc["received_at"] = self.received_at.isoformat()
        return doc


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    if body is None or body.get_content_subtype() != subtype:
        return ""
    content = body.get_content()
    return content if isinstance(content, str) else ""


class DevMailbox:
    """The newest ``capacity`` messages, newest first. Written from the SMTP server's
    thread, read from the application's event loop."""

    def __init__(self, capacity: int = 200) -> None:
        self._messages: deque[DevMail] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def add_raw(self, raw: bytes, *, envelope_to: list[str] | None = None) -> DevMail:
        parsed = BytesParser(policy=default_policy).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        mail = DevMail(
            id=uuid.uuid4().hex,
            to=str(parsed.get("To", "")),
            from_=str(parsed.get("From", "")),
            subject=str(parsed.get("Subject", "")),
            text=_part(parsed, "plain"),
            html=_part(parsed, "html"),
            received_at=datetime.now(UTC),
            envelope_to=tuple(envelope_to or ()),
        )
        with self._lock:
            self._messages.appendleft(mail)
        return mail

    def messages(self) -> list[DevMail]:
        with self._lock:
            return list(self._messages)

    def get(self, mail_id: str) -> DevMail | None:
        return next((m for m in self.messages() if m.id == mail_id), None)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


class _Handler:
    def __init__(self, mailbox: DevMailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        self.mailbox.add_raw(raw, envelope_to=list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class DevMailSink:
    """An SMTP server on ``host`` (default 127.0.0.1) and a free port, delivering into
    :attr:`mailbox`. ``url`` is what SMTP_URL should be."""

    def __init__(self, mailbox: DevMailbox | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mailbox = mailbox or DevMailbox()
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start_blocking(self) -> None:
        last: Exception | None = None
        for _ in range(5):  # a free port can be taken between probing and binding
            port = self.port or _free_port(self.host)
            controller = Controller(
                _Handler(self.mailbox), hostname=self.host, port=port, server_hostname="devmail.localhost"
            )
            try:
                controller.start()
            except (OSError, RuntimeError, TimeoutError) as exc:
                last = exc
                controller.stop(no_assert=True)
                if self.port:
                    break
                continue
            self.port, self._controller = port, controller
            return
        raise RuntimeError("the development mail sink could not start") from last

    def stop_blocking(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    async def start(self) -> None:
        await asyncio.to_thread(self.start_blocking)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_blocking)


# ------------------------------------------------------------------------ pages

_URL = re.compile(r"https?://[^\s<>\"']+")
# Inline styles only; no scripts, no remote content (the gateway's strict default
# policy would otherwise forbid the styles).
_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
# A mail's own HTML, sandboxed: no scripts, no forms, no same-origin access.
_MAIL_CSP = "sandbox allow-popups allow-top-navigation-by-user-activation; default-src 'none'; " + (
    "style-src 'unsafe-inline'; img-src data:"
)


def _linkify(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        out.append(html.escape(text[position : match.start()]))
        url = html.escape(match.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        position = match.end()
    out.append(html.escape(text[position:]))
    return "".join(out)


def _page(mailbox: DevMailbox) -> str:
    mails = mailbox.messages()
    items = []
    for mail in mails:
        when = mail.received_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        items.append(
            "<article>"
            f"<h2>{html.escape(mail.subject) or '(no subject)'}</h2>"
            f"<p class=meta>To <b>{html.escape(mail.to)}</b> · from {html.escape(mail.from_)} · {when}"
            + (f' · <a href="/dev/mail/{mail.id}">HTML version</a>' if mail.html else "")
            + "</p>"
            f"<pre>{_linkify(mail.text)}</pre>"
            "</article>"
        )
    body = "".join(items) or "<p>No mail yet. Emails the platform sends appear here.</p>"
    return (
        "<!DOCTYPE html><html lang=en-AU><head><meta charset=utf-8>"
        "<title>Development mailbox — Australia Jobs</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:52rem;padding:0 1rem}"
        "article{border:1px solid #ccd;border-radius:6px;padding:0 1rem;margin:1rem 0}"
        ".meta{color:#556}pre{white-space:pre-wrap;font-size:.95rem}</style></head><body>"
        f"<h1>Development mailbox</h1><p>{len(mails)} message(s), newest first "
        "(kept in memory; JSON at <a href=/dev/mail.json>/dev/mail.json</a>).</p>"
        f"{body}</body></html>"
    )


def create_devmail_router(mailbox: DevMailbox) -> APIRouter:
    router = APIRouter(prefix="/dev", tags=["development"], include_in_schema=False)

    @router.get("/mail")
    async def mail_page() -> Response:
        return HTMLResponse(
            _page(mailbox),
            headers={"Content-Security-Policy": _PAGE_CSP, "Cache-Control": "no-store"},
        )

    @router.get("/mail.json")
    async def mail_json() -> Response:
        return JSONResponse([m.as_json() for m in mailbox.messages()], headers={"Cache-Control": "no-store"})

    @router.get("/mail/{mail_id}")
    async def mail_html(mail_id: str) -> Response:
        mail = mailbox.get(mail_id)
        if mail is None or not mail.html:
            return problem_response(404, "No such message in the development mailbox.")
        return HTMLResponse(
            mail.html, headers={"Content-Security-Policy": _MAIL_CSP, "Cache-Control": "no-store"}
        )

    return router
