from aujobs_common.cli import run_cli

from .app import MIGRATIONS
from .settings import get_settings


def main() -> None:
    run_cli(
        name="auth",
        app_factory="aujobs_auth.app:create_app",
        default_port=8001,
        migrations=MIGRATIONS,
        database_url=lambda: get_settings().database_url,
    )


if __name__ == "__main__":
    main()
