"""Steps shared by the commands that set the dashboard up (`quickstart`, `demo`)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import OutputWrapper
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def apply_migrations(stdout: OutputWrapper) -> None:
    """Bring the database's tables up to date, saying so only when there is something to do.

    A fresh clone's database has no tables yet: a command that reads or writes them first
    applies the pending migrations, as `migrate` would.
    """
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return
    stdout.write("Applying migrations…")
    call_command("migrate", interactive=False, verbosity=0)
