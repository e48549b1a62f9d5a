"""Pure functions of the email channel: SMTP URLs, Australian times, error classes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiosmtplib
import pytest

from aujobs_notifications.rendering import format_au_time
from aujobs_notifications.sender import SmtpConfig, classify
from aujobs_notifications.service import valid_address


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:1025", ("127.0.0.1", 1025, None, None, False, False)),
        ("smtp://mail.example", ("mail.example", 25, None, None, False, False)),
        (
            "smtp://apikey:s%40cret@smtp.example:587?starttls=true",
            ("smtp.example", 587, "apikey", "s@cret", False, True),
        ),
        ("smtp+starttls://u:p@smtp.example", ("smtp.example", 587, "u", "p", False, True)),
        ("smtps://u:p@smtp.example", ("smtp.example", 465, "u", "p", True, False)),
    ],
)
def test_smtp_url(url, expected):
    c = SmtpConfig.from_url(url)
    assert (c.hostname, c.port, c.username, c.password, c.use_tls, c.start_tls) == expected


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:25"])
def test_bad_smtp_url(url):
    with pytest.raises(ValueError):
        SmtpConfig.from_url(url)


def test_australian_time_across_daylight_saving():
    sydney = ZoneInfo("Australia/Sydney")
    assert format_au_time(datetime(2026, 11, 26, 4, 15, tzinfo=UTC), sydney) == (
        "3:15 pm AEDT, Thursday 26 November 2026"
    )
    assert format_au_time(datetime(2026, 6, 30, 14, 5, tzinfo=UTC), sydney) == (
        "12:05 am AEST, Wednesday 1 July 2026"
    )
    assert format_au_time(datetime(2026, 1, 1, 1, 0, tzinfo=UTC), ZoneInfo("Australia/Perth")) == (
        "9:00 am AWST, Thursday 1 January 2026"
    )


def test_error_classes_keep_no_reply_text():
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "no such user x@y", "x@y")]
    )
    failure = classify(refused)
    assert failure.permanent and failure.code == 550 and failure.error == "SMTPRecipientsRefused (550)"
    busy = classify(aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, "later", "x@y")]))
    assert not busy.permanent
    assert not classify(aiosmtplib.SMTPAuthenticationError(535, "bad credentials")).permanent
    assert classify(aiosmtplib.SMTPDataError(554, "rejected")).permanent
    down = classify(aiosmtplib.SMTPConnectError("refused by 10.0.0.1"))
    assert not down.permanent and down.error == "SMTPConnectError"
    assert "x@y" not in failure.error and "10.0.0.1" not in down.error


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("mia@example.com.au", True),
        ("Mia <mia@example.com.au>", False),
        ("mia@example.com.au\r\nBcc: x@y.z", False),
        ("a@b.example, c@d.example", False),
        ("not-an-address", False),
        ("", False),
    ],
)
def test_recipient_must_be_one_plain_address(address, ok):
    assert valid_address(address) is ok


def test_retry_back_off_doubles_up_to_its_cap_with_at_most_ten_percent_jitter():
    from aujobs_notifications.sender import EmailSender
    from aujobs_notifications.settings import NotificationsSettings

    sender = EmailSender.__new__(EmailSender)  # retry_delay reads only the settings
    sender.settings = NotificationsSettings(mail_retry_base_seconds=30, mail_retry_max_seconds=3600)
    for attempt, expected in [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (20, 3600)]:
        for _ in range(20):
            seconds = sender.retry_delay(attempt).total_seconds()
            assert expected <= seconds <= expected * 1.1, (attempt, seconds)
