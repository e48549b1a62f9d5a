"""The command line every deployable shares: ``serve``, ``migrate`` (services) and a
service's own extra commands (``aujobs-auth grant-admin EMAIL``, ``aujobs-jobs seed``)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn


@dataclass(frozen=True)
class Command:
    """An extra subcommand. ``run`` gets the parsed arguments and may be async; an int it
    returns is the exit code. ``arguments`` declares the command's own arguments."""

    run: Callable[[argparse.Namespace], Any]
    help: str | None = None
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


def run_cli(
    *,
    name: str,
    app_factory: str,
    default_port: int,
    migrations: Path | None = None,
    database_url: Callable[[], str] | None = None,
    extra_commands: dict[str, Command | Callable[[argparse.Namespace], Any]] | None = None,
    argv: list[str] | None = None,
) -> None:
    commands = {
        command: spec if isinstance(spec, Command) else Command(run=spec)
        for command, spec in (extra_commands or {}).items()
    }
    parser = argparse.ArgumentParser(prog=f"aujobs-{name}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help=f"serve the {name} HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=default_port)
    serve.add_argument("--workers", type=int, default=1)
    if migrations is not None:
        sub.add_parser("migrate", help="apply database migrations and exit")
    for command, spec in commands.items():
        command_parser = sub.add_parser(command, help=spec.help, description=spec.help)
        if spec.arguments is not None:
            spec.arguments(command_parser)
    args = parser.parse_args(argv)

    if args.command == "serve":
        uvicorn.run(
            app_factory,
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            access_log=False,
            log_config=None,
            # Trust X-Forwarded-* only from FORWARDED_ALLOW_IPS (uvicorn's env
            # setting, default 127.0.0.1): anyone else could fake their client IP.
            proxy_headers=True,
        )
    elif args.command == "migrate":
        from .migrations import upgrade

        assert migrations is not None and database_url is not None
        upgrade(migrations, database_url())
    else:
        result = commands[args.command].run(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        if isinstance(result, int) and result:
            raise SystemExit(result)
