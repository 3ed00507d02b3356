"""``meshhook workflows history|diff|publish|revert|alias``: a workflow's versions
and the aliases pointing at them, over the HTTP API."""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Any

import typer

from meshhook.cli.common import console, errors, report_errors
from meshhook.cli.output import add_row, emit, say, show_value, table, when
from meshhook.cli.remote import AsJson, Project, Ref, api


@report_errors
def history(
    ctx: typer.Context,
    ref: Ref,
    project: Project = "default",
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many versions.")] = 50,
    as_json: AsJson = False,
) -> None:
    """Versions of a workflow, newest first."""
    with api(ctx, as_json) as client:
        versions = list(islice(client.iter_history(project, ref), limit))
    if as_json:
        emit(versions)
        return
    grid = table("version", "state", "tag", "created", "by", "message")
    for item in versions:
        add_row(
            grid,
            str(item["number"]),
            item["state"],
            item["tag"] or "",
            when(item["created_at"]),
            item["created_by"],
            item["message"],
        )
    console.print(grid, markup=False, highlight=False)


@report_errors
def diff(
    ctx: typer.Context,
    ref: Ref,
    old: Annotated[int, typer.Argument(min=1, help="The version to compare from.")],
    new: Annotated[int, typer.Argument(min=1, help="The version to compare to.")],
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """What changed between two versions: nodes, edges, settings, and layout apart."""
    with api(ctx, as_json) as client:
        found = client.compare(project, ref, old, new)
    if as_json:
        emit(found)
    else:
        for line in diff_lines(found):
            say(line)


def _field_change(change: dict[str, Any]) -> str:
    if change["op"] == "add":
        return f"{change['path']}: added {show_value(change['new'])}"
    if change["op"] == "remove":
        return f"{change['path']}: removed (was {show_value(change['old'])})"
    return f"{change['path']}: {show_value(change['old'])} → {show_value(change['new'])}"


def _edge(edge: dict[str, Any]) -> str:
    when = f" (when {edge['when']})" if edge.get("when") is not None else ""
    return f"{edge.get('from')} → {edge.get('to')}{when}"


def _position(value: Any) -> str:
    if isinstance(value, dict):
        return f"({value.get('x')}, {value.get('y')})"
    return "none"


def diff_lines(found: dict[str, Any]) -> list[str]:
    """A compare answer as lines a person reads: +/-/~ per node, pointers for fields."""
    lines = [f"version {found['from']} → {found['to']}"]
    if found["summary"]["identical"]:
        return [*lines, "no differences"]
    nodes, edges = found["nodes"], found["edges"]
    sections: list[tuple[str, list[str]]] = [
        ("nodes added", [f"+ {n['id']} ({n.get('type')})" for n in nodes["added"]]),
        ("nodes removed", [f"- {n['id']} ({n.get('type')})" for n in nodes["removed"]]),
        (
            "nodes changed",
            [
                line
                for node in nodes["changed"]
                for line in (
                    f"~ {node['id']}",
                    *(f"    {_field_change(field)}" for field in node["fields"]),
                )
            ],
        ),
        ("edges added", [f"+ {_edge(e)}" for e in edges["added"]]),
        ("edges removed", [f"- {_edge(e)}" for e in edges["removed"]]),
        ("settings changed", [_field_change(c) for c in found["settings"]["changed"]]),
        (
            "layout (positions only)",
            [
                f"{m['id']} moved {_position(m['old'])} → {_position(m['new'])}"
                for m in found["layout"]["moved"]
            ],
        ),
    ]
    for title, entries in sections:
        if entries:
            lines.append(f"{title}:")
            lines.extend(f"  {entry}" for entry in entries)
    return lines


# -- writing -------------------------------------------------------------------


@report_errors
def publish(
    ctx: typer.Context,
    ref: Ref,
    version: Annotated[
        int | None, typer.Option("--version", "-v", min=1, help="Default: the head.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="e.g. v1.2.0; unique.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Release note.")] = None,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Publish a version: it becomes immutable and the workflow's published version."""
    with api(ctx, as_json) as client:
        info = client.publish(project, ref, version=version, tag=tag, note=note)
    if as_json:
        emit(info)
        return
    tagged = f" as {info['tag']}" if info["tag"] else ""
    say(f"published version {info['number']} of {ref}{tagged}")


@report_errors
def revert(
    ctx: typer.Context,
    ref: Ref,
    version: Annotated[int, typer.Argument(min=1, help="The version whose content to restore.")],
    publish: Annotated[bool, typer.Option("--publish", help="Publish the result too.")] = False,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Make a new head version equal to an older one (history is kept)."""
    with api(ctx, as_json) as client:
        reverted = client.revert(project, ref, version, publish=publish)
    if as_json:
        emit(reverted.body)
        return
    published = " and published it" if publish else ""
    say(
        f"{reverted.body['key']}: head is version {reverted.version}, with the content of"
        f" version {version}{published}"
    )


@report_errors
def alias(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[str | None, typer.Argument(help="Alias name, e.g. production.")] = None,
    version: Annotated[
        int | None, typer.Argument(min=1, help="A published version to point it at.")
    ] = None,
    list_them: Annotated[bool, typer.Option("--list", help="List the aliases.")] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="Remove the alias NAME (admin; audited).")
    ] = False,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Point an alias at a published version (admin), remove it with --delete, or list
    them with --list."""
    if delete:
        if name is None or version is not None or list_them:
            errors.print("[red]error:[/red] --delete takes the alias NAME only")
            raise typer.Exit(2)
        with api(ctx, as_json) as client:
            client.delete_alias(project, ref, name)
        if not as_json:
            say(f"{ref}: alias {name} removed (its version is unchanged)")
        return
    if list_them or name is None:
        if name is not None:
            errors.print("[red]error:[/red] --list takes no NAME or VERSION")
            raise typer.Exit(2)
        with api(ctx, as_json) as client:
            aliases = client.list_aliases(project, ref)
        if as_json:
            emit(aliases)
        elif not aliases:
            say(f"{ref} has no aliases")
        else:
            grid = table("alias", "version", "updated", "by")
            for item in aliases:
                add_row(
                    grid,
                    item["name"],
                    str(item["version"]),
                    when(item["updated_at"]),
                    item["updated_by"],
                )
            console.print(grid, markup=False, highlight=False)
        return
    if version is None:
        errors.print("[red]error:[/red] give the VERSION the alias should point at")
        raise typer.Exit(2)
    with api(ctx, as_json) as client:
        found = client.set_alias(project, ref, name, version)
    if as_json:
        emit(found)
    else:
        say(f"{ref}: {found['name']} → version {found['version']}")
