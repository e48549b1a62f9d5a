"""``python -m aujobs_gateway serve [--host H] [--port P]`` (settings from the environment)."""

from __future__ import annotations

from aujobs_common.cli import run_cli


def main() -> None:
    run_cli(name="gateway", app_factory="aujobs_gateway.app:create_app", default_port=8000)


if __name__ == "__main__":
    main()
