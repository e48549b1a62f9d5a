from aujobs_common.cli import Command, run_cli

from .app import MIGRATIONS
from .rebuild import arguments, rebuild_command
from .settings import get_settings


def main() -> None:
    run_cli(
        name="search",
        app_factory="aujobs_search.app:create_app",
        default_port=8003,
        migrations=MIGRATIONS,
        database_url=lambda: get_settings().database_url,
        extra_commands={
            "rebuild": Command(
                run=rebuild_command,
                help="rebuild the search index from the jobs service's export, without downtime "
                "(admin token in SEARCH_REBUILD_TOKEN)",
                arguments=arguments,
            )
        },
    )


if __name__ == "__main__":
    main()
