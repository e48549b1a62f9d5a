"""Problem details, pagination cursors and idempotency keys as every service uses them."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import create_async_engine

from aujobs_common.db import COMMON_METADATA, Database
from aujobs_common.errors import ProblemError, install_problem_handlers, problem_response
from aujobs_common.idempotency import run_idempotent
from aujobs_common.ids import uuid7
from aujobs_common.observability import JsonFormatter, ObservabilityMiddleware
from aujobs_common.pagination import decode_cursor, encode_cursor


class Thing(BaseModel):
    name: str = Field(min_length=2)
    size: int = Field(ge=0)


def problem_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(ObservabilityMiddleware, service="test")

    @app.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @app.get("/boom")
    async def boom(request: Request) -> None:
        # Runtime data (as a real driver error would carry), not a literal in source.
        raise RuntimeError(f"password={request.headers['x-secret']}")

    @app.get("/gone")
    async def gone() -> None:
        raise ProblemError(410, "This thing is gone.", type_="thing-gone")

    return app


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=problem_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_validation_errors_list_each_field(client):
    r = await client.post("/things", json={"name": "x", "size": -1})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["title"] == "Validation failed" and body["instance"] == "/things"
    assert {e["field"] for e in body["errors"]} == {"name", "size"}


async def test_unhandled_errors_are_500_problems_without_internals(client, caplog):
    with caplog.at_level(logging.ERROR):
        r = await client.get("/boom", headers={"x-secret": "hunter2"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert "hunter2" not in r.text
    formatter = JsonFormatter()
    lines = [formatter.format(rec) for rec in caplog.records]
    assert any("RuntimeError" in line for line in lines)
    assert all("hunter2" not in line for line in lines)


async def test_what_the_database_refuses_is_a_client_problem_and_changes_nothing(fresh_database_url):
    """A NUL in text (SQLSTATE 22021) is a 422, a unique key taken meanwhile (23505) a 409,
    a deadlock victim (40P01) a 503 to send again; all roll back; other database errors
    stay 500s."""
    db = Database(fresh_database_url)
    async with db.transaction() as session:
        await session.execute(sa.text("CREATE TABLE names (name text PRIMARY KEY, note text)"))
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/names/{name}")
    async def add(name: str, note: str = "") -> dict[str, str]:
        async with db.transaction() as session:
            await session.execute(sa.text("INSERT INTO names VALUES ('audit', 'x') ON CONFLICT DO NOTHING"))
            await session.execute(sa.text("INSERT INTO names VALUES (:n, :note)"), {"n": name, "note": note})
        return {"name": name}

    @app.post("/collide")
    async def collide() -> None:
        async with db.transaction() as session:
            await session.execute(sa.text("INSERT INTO names VALUES ('collided', 'x')"))
            # what PostgreSQL raises when it breaks a deadlock by rolling this one back
            await session.execute(sa.text("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01'; END $$"))

    @app.get("/broken")
    async def broken() -> None:
        async with db.session() as session:
            await session.execute(sa.text("SELECT * FROM no_such_table"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.post("/names/wattle")).status_code == 200
            taken = await c.post("/names/wattle")
            assert taken.status_code == 409 and taken.json()["type"].endswith("/conflict")
            nul = await c.post("/names/banksia", params={"note": "a\x00b"})
            assert nul.status_code == 422 and nul.json()["type"].endswith("/invalid-input")
            again = await c.post("/collide")
            assert again.status_code == 503 and again.json()["type"].endswith("/retry")
            assert again.headers["retry-after"] == "1"
            assert (await c.get("/broken")).status_code == 500
        async with db.session() as session:
            names = (await session.execute(sa.text("SELECT name FROM names ORDER BY name"))).scalars().all()
        assert names == ["audit", "wattle"]  # the refused requests left nothing behind
    finally:
        await db.dispose()


async def test_not_found_and_raised_problems(client):
    r = await client.get("/nowhere")
    assert r.status_code == 404 and r.json()["status"] == 404
    r = await client.get("/gone")
    assert r.status_code == 410 and r.json()["type"].endswith("/thing-gone")
    assert r.headers.get("x-request-id")


async def test_request_id_is_kept_when_well_formed(client):
    r = await client.get("/gone", headers={"X-Request-Id": "req-abcdef123"})
    assert r.headers["x-request-id"] == "req-abcdef123"
    r = await client.get("/gone", headers={"X-Request-Id": "x"})
    assert r.headers["x-request-id"] != "x"


def test_cursor_round_trip_and_garbage():
    assert decode_cursor(encode_cursor({"t": "2026-01-01", "id": "abc"})) == {"t": "2026-01-01", "id": "abc"}
    for bad in ("%%%", "bm90IGpzb24", encode_cursor([1, 2])):  # type: ignore[arg-type]
        with pytest.raises(ProblemError) as info:
            decode_cursor(bad)
        assert info.value.status == 400


def test_uuid7_is_time_ordered():
    ids = [uuid7() for _ in range(50)]
    assert all(i.version == 7 for i in ids)
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)


async def test_idempotency_key_runs_create_once_even_concurrently(fresh_database_url):
    engine = create_async_engine(fresh_database_url)
    async with engine.begin() as conn:
        await conn.run_sync(COMMON_METADATA.create_all)
        await conn.execute(sa.text("CREATE TABLE things (id serial primary key, name text)"))
    await engine.dispose()
    db = Database(fresh_database_url)

    async def attempt(name: str):
        async with db.transaction() as session:

            async def create():
                row = await session.execute(
                    sa.text("INSERT INTO things (name) VALUES (:n) RETURNING id"), {"n": name}
                )
                await asyncio.sleep(0.05)  # widen the race window
                return 201, {"id": row.scalar_one(), "name": name}

            return await run_idempotent(
                session,
                key="k-1",
                principal="user-1",
                method="POST",
                path="/things",
                body={"name": name},
                create=create,
            )

    first, second = await asyncio.gather(attempt("a"), attempt("a"))
    assert first.status_code == second.status_code == 201
    assert first.body == second.body
    async with db.session() as session:
        assert await session.scalar(sa.text("SELECT count(*) FROM things")) == 1
    with pytest.raises(ProblemError) as info:
        await attempt("different body")
    assert info.value.status == 422
    await db.dispose()


def test_problem_extension_members_sit_beside_the_standard_ones_without_replacing_them():
    response = problem_response(
        409,
        "You have already applied for this job.",
        type_="https://problems.example/already-applied",
        extensions={"application_id": "0192", "status": 200, "type": "forged"},
    )
    body = json.loads(response.body)
    assert body == {
        "application_id": "0192",
        "type": "https://problems.example/already-applied",
        "title": "Conflict",
        "status": 409,
        "detail": "You have already applied for this job.",
    }
