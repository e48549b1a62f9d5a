"""File storage behind one interface (DESIGN.md §6): resumes, cover letters and
attachments. The default keeps the bytes in the owning service's own PostgreSQL
database, content-addressed (SHA-256) so the same file stored twice takes the space
once; an S3-compatible store can implement :class:`BlobStore` for scale.

Writes join the caller's transaction: a file and the row that refers to it commit or
roll back together, so a failed request leaves no orphan behind.

Each service declares the table in its own metadata with :func:`blob_table` and
creates it in its own migration (:func:`create_blob_table`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

BLOB_TABLE = "blobs"


def blob_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        BLOB_TABLE,
        metadata,
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("size_bytes >= 0", name="ck_blobs_size"),
    )


def create_blob_table() -> None:
    """For a service's Alembic migration."""
    from alembic import op

    op.create_table(
        BLOB_TABLE,
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("size_bytes >= 0", name="ck_blobs_size"),
    )


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size_bytes: int


class BlobStore(Protocol):
    async def put(self, session: AsyncSession, data: bytes) -> StoredBlob: ...

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None: ...

    async def delete_unreferenced(self, session: AsyncSession, sha256: str, *, still_used: bool) -> None: ...


class PostgresBlobStore:
    """Blobs in the service's database (the ``blobs`` table of ``table``'s metadata)."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table

    async def put(self, session: AsyncSession, data: bytes) -> StoredBlob:
        digest = hashlib.sha256(data).hexdigest()
        await session.execute(
            insert(self.table)
            .values(sha256=digest, size_bytes=len(data), content=data)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        return StoredBlob(sha256=digest, size_bytes=len(data))

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None:
        return await session.scalar(sa.select(self.table.c.content).where(self.table.c.sha256 == sha256))

    async def delete_unreferenced(self, session: AsyncSession, sha256: str, *, still_used: bool) -> None:
        """Remove a blob the caller has just stopped referring to, unless another row
        (``still_used``, checked by the caller in the same transaction) still does."""
        if not still_used:
            await session.execute(sa.delete(self.table).where(self.table.c.sha256 == sha256))
