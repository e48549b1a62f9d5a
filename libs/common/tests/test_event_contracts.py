"""The event contracts: envelope shape, type naming, and the published AsyncAPI document."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aujobs_common.events import EVENT_TYPES, CloudEvent, UserRegistered, asyncapi_document

DOC = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"


def test_every_event_type_follows_the_naming_rule():
    for event_type in EVENT_TYPES:
        assert re.fullmatch(r"au\.jobs\.[a-z_]+\.[a-z_]+\.v\d+", event_type), event_type


def test_envelope_is_cloudevents_1_0():
    event = UserRegistered(
        user_id="0190a0b0-0000-7000-8000-000000000000",
        email="a@b.au",
        roles=["employer"],
        registered_at="2026-01-01T00:00:00Z",
    ).to_event(source="/services/auth", subject="x")
    doc = json.loads(event.model_dump_json())
    assert {"id", "source", "type", "specversion", "time", "datacontenttype", "data"} <= doc.keys()
    assert doc["specversion"] == "1.0" and doc["type"] == "au.jobs.user.registered.v1"
    assert CloudEvent.model_validate(doc).data["email"] == "a@b.au"


def test_committed_asyncapi_document_is_current():
    """docs/asyncapi.json is generated (`make asyncapi`); it must list every event."""
    committed = json.loads(DOC.read_text())
    assert committed == json.loads(json.dumps(asyncapi_document())), "run `make asyncapi`"
