"""``python -m aujobs_embedded``: the whole platform on http://localhost:8000."""

from __future__ import annotations

import argparse
import asyncio
import os
from contextlib import AsyncExitStack
from pathlib import Path

import uvicorn

from aujobs_auth.seed import DEMO_PASSWORD, DEMO_USERS
from aujobs_common.observability import configure_logging

from .platform import EmbeddedConfig, start_platform


async def serve(host: str, port: int, data_dir: Path, seed_jobs: int) -> None:
    config = EmbeddedConfig(
        data_dir=data_dir,
        postgres_admin_url=os.environ.get("EMBEDDED_POSTGRES_ADMIN_URL") or None,
        seed_jobs=seed_jobs,
    )
    async with AsyncExitStack() as stack:
        platform = await start_platform(config, stack)
        server = uvicorn.Server(
            uvicorn.Config(platform.gateway, host=host, port=port, access_log=False, log_config=None)
        )
        print(
            f"\nAustralia Jobs is running on http://{host}:{port}  (API docs: http://{host}:{port}/docs)\n"
            f"Email sent by the platform (verification, reset, alerts): http://{host}:{port}/dev/mail\n"
            f"Demo sign-ins (password {DEMO_PASSWORD!r}): "
            + ", ".join(f"{role}: {email}" for role, (email, _) in DEMO_USERS.items())
            + "\nCtrl-C stops.\n",
            flush=True,
        )
        await server.serve()


def main() -> None:
    parser = argparse.ArgumentParser(prog="aujobs-embedded", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("DATA_DIR", ".data")))
    parser.add_argument("--seed-jobs", type=int, default=int(os.environ.get("SEED_JOBS", "300")))
    args = parser.parse_args()
    configure_logging(
        os.environ.get("LOG_LEVEL", "INFO"), json_logs=os.environ.get("LOG_JSON", "false") == "true"
    )
    try:
        asyncio.run(serve(args.host, args.port, args.data_dir, args.seed_jobs))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
