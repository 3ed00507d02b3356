"""The ``meshhook`` command line."""

from __future__ import annotations

import typer

from meshhook import __version__
from meshhook.cli import (
    admin,
    alerts,
    backups,
    bundles,
    hooks,
    redaction,
    retention,
    runs,
    server,
    stats,
    validate,
    vault,
    workflows,
)

app = typer.Typer(
    name="meshhook",
    help="MeshHook: durable workflows with versioned, portable definitions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(server.serve)
app.add_typer(server.db_app, name="db")
app.add_typer(admin.users_app, name="users")
app.add_typer(admin.projects_app, name="projects")
app.add_typer(admin.members_app, name="members")
app.add_typer(admin.tokens_app, name="tokens")
app.add_typer(admin.sessions_app, name="sessions")
app.add_typer(workflows.workflows_app, name="workflows")
app.command("validate")(validate.validate)
app.add_typer(bundles.bundles_app, name="bundles")
app.add_typer(vault.secrets_app, name="secrets")
app.add_typer(vault.keys_app, name="keys")
app.command("audit")(vault.audit)
app.add_typer(runs.runs_app, name="runs")
app.add_typer(hooks.hooks_app, name="hooks")
app.add_typer(redaction.redaction_app, name="redaction")
app.add_typer(alerts.alerts_app, name="alerts")
app.command("worker")(runs.worker)
app.command("backup")(backups.backup)
app.command("restore")(backups.restore)
app.command("stats")(stats.stats)
app.add_typer(retention.retention_app, name="retention")


@app.command("version")
def version() -> None:
    """Print the MeshHook version."""
    typer.echo(__version__)


def main() -> None:
    app()
