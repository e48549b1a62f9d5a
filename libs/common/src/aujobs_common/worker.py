"""The lifecycle every background loop in a service shares (outbox relay, email
sender, …): started in the app's lifespan, woken early by ``notify()``, and stopped
gracefully — the work in flight may finish within ``grace`` before it is cancelled."""

from __future__ import annotations

import abc
import asyncio
import contextlib


class BackgroundWorker(abc.ABC):
    task_name = "background-worker"

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def _run(self) -> None:
        """The loop; it must return soon after ``_stopping`` is set."""

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self, grace: float = 5.0) -> None:
        """Let the work in flight finish (up to ``grace`` seconds), then stop. Cancelling
        rolls back an open transaction, so unfinished work is picked up again later."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def notify(self) -> None:
        """Work now rather than at the next poll."""
        self._wake.set()
