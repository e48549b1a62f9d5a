"""Email to applicants from the applications service's events: the application was sent,
and the employer moved it to a stage worth hearing about (with their message). Real
PostgreSQL, real SMTP (aiosmtpd)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aujobs_common.events import ApplicationStatus, ApplicationStatusChanged, ApplicationSubmitted
from aujobs_common.testing.waiting import eventually

from .test_jobs_email import _items, hrefs, mails_to, register

APPLICATIONS = "/services/applications"


def submitted(applicant, **extra):
    return ApplicationSubmitted(
        application_id=uuid.uuid4(),
        job_id=uuid.uuid4(),
        company_id=uuid.uuid4(),
        applicant_id=applicant,
        submitted_at=datetime.now(UTC),
        job_title="Registered Nurse",
        company_name="Harbour Health",
        **extra,
    )


def changed(applicant, status, previous=ApplicationStatus.reviewed, **extra):
    return ApplicationStatusChanged(
        application_id=uuid.uuid4(),
        job_id=uuid.uuid4(),
        company_id=uuid.uuid4(),
        applicant_id=applicant,
        previous_status=previous,
        status=status,
        changed_by=uuid.uuid4(),
        changed_at=datetime.now(UTC),
        job_title="Registered Nurse",
        company_name="Harbour Health",
        **extra,
    )


async def test_the_applicant_is_told_their_application_was_sent(service, smtp_server):
    applicant = await register(service, "nurse@example.com.au")
    event = submitted(applicant)
    await service.publish(event, source=APPLICATIONS)
    [mail] = await mails_to(smtp_server, "nurse@example.com.au")
    assert mail.message["Subject"] == "Application sent: Registered Nurse at Harbour Health"
    link = f"{service.frontend}/applications/{event.application_id}"
    assert link in mail.text and link in hrefs(mail.html)


async def test_stage_changes_reach_the_applicant_with_the_employers_message(service, smtp_server):
    applicant = await register(service, "candidate@example.com.au")
    await service.publish(
        changed(applicant, ApplicationStatus.interview, message="Can you come in on Tuesday at 10?"),
        source=APPLICATIONS,
    )
    await service.publish(changed(applicant, ApplicationStatus.rejected), source=APPLICATIONS)
    mails = {m.message["Subject"]: m for m in await mails_to(smtp_server, "candidate@example.com.au", 2)}
    interview = mails["Interview invitation: Registered Nurse at Harbour Health"]
    assert "Can you come in on Tuesday at 10?" in interview.text
    assert "Can you come in on Tuesday at 10?" in interview.html
    rejected = mails["Update on your application: Registered Nurse at Harbour Health"]
    assert "decided not to progress" in rejected.text and "Their message" not in rejected.text


async def test_bookkeeping_and_the_applicants_own_changes_send_nothing(service, smtp_server):
    applicant = await register(service, "quiet.applicant@example.com.au")
    for status in (ApplicationStatus.reviewed, ApplicationStatus.withdrawn):
        await service.publish(changed(applicant, status, previous=ApplicationStatus.submitted))
    await service.publish(changed(applicant, ApplicationStatus.shortlisted), source=APPLICATIONS)
    [mail] = await mails_to(smtp_server, "quiet.applicant@example.com.au")
    assert mail.message["Subject"].startswith("You've been shortlisted")
    await service.bus.drain(5)
    assert [i["kind"] for i in await eventually(lambda: _items(service))] == ["application_status_changed"]
    assert len([m for m in smtp_server.messages() if "quiet.applicant" in m.rcpt_tos[0]]) == 1


async def test_employer_text_is_escaped_in_the_html_part(service, smtp_server):
    applicant = await register(service, "escape.applicant@example.com.au")
    await service.publish(
        changed(applicant, ApplicationStatus.offer, message="<a href='http://evil'>Click</a> & sign"),
        source=APPLICATIONS,
    )
    [mail] = await mails_to(smtp_server, "escape.applicant@example.com.au")
    assert "<a href='http://evil'>" not in mail.html and "http://evil" not in hrefs(mail.html)
    assert "&lt;a href=&#39;http://evil&#39;&gt;Click&lt;/a&gt; &amp; sign" in mail.html
    assert "<a href='http://evil'>Click</a> & sign" in mail.text
