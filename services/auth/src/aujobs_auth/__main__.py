from aujobs_common.cli import Command, run_cli

from .app import MIGRATIONS
from .bootstrap import arguments, grant_admin_command
from .settings import get_settings


def main() -> None:
    run_cli(
        name="auth",
        app_factory="aujobs_auth.app:create_app",
        default_port=8001,
        migrations=MIGRATIONS,
        database_url=lambda: get_settings().database_url,
        extra_commands={
            "grant-admin": Command(
                run=grant_admin_command,
                help="give an existing account the admin role (and sign it out everywhere)",
                arguments=arguments,
            )
        },
    )


if __name__ == "__main__":
    main()
