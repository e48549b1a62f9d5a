import argparse

from aujobs_common.cli import run_cli

from .app import MIGRATIONS
from .settings import get_settings


def main() -> None:
    async def seed(_: argparse.Namespace) -> None:
        from .seed import seed_demo_jobs

        await seed_demo_jobs(get_settings())

    async def republish_members(_: argparse.Namespace) -> None:
        from aujobs_common.db import Database

        from .companies import republish_memberships

        db = Database(get_settings().database_url)
        try:
            count = await republish_memberships(db)
        finally:
            await db.dispose()
        print(f"queued company.members_changed for {count} companies")

    run_cli(
        name="jobs",
        app_factory="aujobs_jobs.app:create_app",
        default_port=8002,
        migrations=MIGRATIONS,
        database_url=lambda: get_settings().database_url,
        extra_commands={"seed": seed, "republish-members": republish_members},
    )


if __name__ == "__main__":
    main()
