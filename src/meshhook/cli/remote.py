"""What every remote command shares: the ``--project``/``--json`` options, and
the HTTP client, reached through the Typer context (:class:`Remote`).

Unlike the admin commands, remote commands never open the database: they call
the server at ``MESHHOOK_URL`` with ``MESHHOOK_TOKEN``, so they work against a
remote installation too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.markup import escape

from meshhook.cli.client import ClientError, MeshHookClient, NotConfigured
from meshhook.cli.common import errors
from meshhook.cli.output import emit, print_error

Project = Annotated[
    str,
    typer.Option(
        "--project",
        "-p",
        envvar="MESHHOOK_PROJECT",
        help="Project key (MESHHOOK_PROJECT).",
        show_envvar=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the server's JSON (for scripts).")]
Ref = Annotated[str, typer.Argument(help="The workflow's key or id.")]


@dataclass(frozen=True, slots=True)
class Remote:
    """How commands reach the server, carried as the Typer context's ``obj``.

    ``meshhook`` itself passes nothing, so the client comes from
    ``MESHHOOK_URL``/``MESHHOOK_TOKEN``; tests pass one bound to an in-process
    app: ``CliRunner().invoke(app, args, obj=Remote(lambda: MeshHookClient(...)))``.
    """

    connect: Callable[[], MeshHookClient] = MeshHookClient.from_env


@contextmanager
def api(ctx: typer.Context, as_json: bool = False) -> Iterator[MeshHookClient]:
    """A client from the command's :class:`Remote` (``MESHHOOK_URL``/``MESHHOOK_TOKEN``
    when none was given); with ``--json`` an error's problem document goes to
    stdout too."""
    remote = ctx.find_object(Remote) or Remote()
    try:
        with remote.connect() as client:
            yield client
    except NotConfigured as error:
        errors.print(f"[red]error:[/red] {escape(error.detail)}", highlight=False)
        raise typer.Exit(2) from error
    except ClientError as error:
        if as_json and error.body:
            emit(error.body)
        print_error(error)
        raise typer.Exit(1) from error
