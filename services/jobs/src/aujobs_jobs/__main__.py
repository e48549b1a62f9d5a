import argparse

from aujobs_common.cli import run_cli

from .app import MIGRATIONS
from .settings import get_settings


def main() -> None:
    async def seed(_: argparse.Namespace) -> None:
        from .seed import seed_demo_jobs

        await seed_demo_jobs(get_settings())

    run_cli(
        name="jobs",
        app_factory="aujobs_jobs.app:create_app",
        default_port=8002,
        migrations=MIGRATIONS,
        database_url=lambda: get_settings().database_url,
        extra_commands={"seed": seed},
    )


if __name__ == "__main__":
    main()
