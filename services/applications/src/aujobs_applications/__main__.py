from aujobs_common.cli import run_cli

from .app import MIGRATIONS
from .settings import get_settings


def main() -> None:
    run_cli(
        name="applications",
        app_factory="aujobs_applications.app:create_app",
        default_port=8006,
        migrations=MIGRATIONS,
        database_url=lambda: get_settings().database_url,
    )


if __name__ == "__main__":
    main()
