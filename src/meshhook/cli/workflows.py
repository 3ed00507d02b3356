"""``meshhook workflows ...``: workflows and their versions, over the HTTP API.

Unlike the admin commands these never open the database: they call the server
at ``MESHHOOK_URL`` with ``MESHHOOK_TOKEN``, so they work against a remote
installation too. Tables for people, ``--json`` (the server's JSON, unchanged)
for scripts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from meshhook.cli.client import ClientError, MeshHookClient, NotConfigured, Versioned
from meshhook.cli.common import console, errors, report_errors
from meshhook.cli.validate import print_problems, read_definition_file
from meshhook.cli.wording import in_cli_words

workflows_app = typer.Typer(
    help="Workflows and their versions (over the HTTP API: MESHHOOK_URL, MESHHOOK_TOKEN).",
    no_args_is_help=True,
)

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
DefinitionFile = Annotated[
    Path,
    typer.Option(
        "--file", "-f", help="Definition JSON (or a document with a 'definition' key); - is stdin."
    ),
]


def connect() -> MeshHookClient:
    """The client every command uses; tests replace it to talk to an in-process app."""
    return MeshHookClient.from_env()


@contextmanager
def api(as_json: bool = False) -> Iterator[MeshHookClient]:
    """A connected client; with ``--json`` an error's problem document goes to stdout too."""
    try:
        with connect() as client:
            yield client
    except NotConfigured as error:
        errors.print(f"[red]error:[/red] {escape(error.detail)}", highlight=False)
        raise typer.Exit(2) from error
    except ClientError as error:
        if as_json and error.body:
            emit(error.body)
        print_error(error)
        raise typer.Exit(1) from error


def print_error(error: ClientError) -> None:
    """One red line and the problems, escaped: details quote user input like ``[x]``."""
    detail = in_cli_words(error.detail)
    errors.print(f"[red]error:[/red] {escape(detail)}", highlight=False, soft_wrap=True)
    for problem in error.errors:
        say_to(errors, f"  {problem.path or '/'}: {in_cli_words(problem.message)}")


def emit(data: Any) -> None:
    """Exact JSON on stdout, nothing else."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def say(text: str) -> None:
    """A plain line: no markup, no highlighting, so user content prints as is."""
    say_to(console, text)


def say_to(where: Console, text: str) -> None:
    where.print(text, markup=False, highlight=False, soft_wrap=True)


def show_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def table(*columns: str) -> Table:
    return Table(*columns, show_edge=False, header_style="bold")


def add_row(grid: Table, *cells: str) -> None:
    """Cells as plain text: a name like ``[beta]`` must not be read as markup."""
    grid.add_row(*(Text(cell) for cell in cells))


def when(timestamp: str) -> str:
    return timestamp[:19].replace("T", " ")


def problems_note(body: dict[str, Any]) -> None:
    """The completeness problems of a version, grouped as the validator groups them."""
    problems = body.get("problems") or []
    print_problems(
        [p for p in problems if p.get("severity") != "warning"],
        heading="problems that block publishing",
    )
    print_problems([p for p in problems if p.get("severity") == "warning"], heading="warnings")


# -- reading -------------------------------------------------------------------


@workflows_app.command("list")
@report_errors
def list_workflows(
    project: Project = "default",
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Search name, description, key.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only workflows with this tag.")] = None,
    templates: Annotated[
        bool | None,
        typer.Option("--templates/--no-templates", help="Only templates / only non-templates."),
    ] = None,
    published: Annotated[
        bool | None,
        typer.Option("--published/--unpublished", help="Only published / never published."),
    ] = None,
    deleted: Annotated[
        bool, typer.Option("--deleted", help="List the trash instead (with ids to restore).")
    ] = False,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort", help="name, -name, updated_at, -updated_at, created_at, -created_at."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="Page size.")] = 50,
    cursor: Annotated[str | None, typer.Option("--cursor", help="Continue a listing.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Fetch every page.")] = False,
    as_json: AsJson = False,
) -> None:
    """List workflows (metadata only), newest change first by default."""
    filters: dict[str, Any] = {
        "q": query,
        "tag": tag,
        "is_template": templates,
        "published": published,
        "deleted": deleted,
        "sort": sort,
    }
    with api(as_json) as client:
        if every:
            items = list(client.iter_workflows(project, **filters, limit=limit))
            page = {"items": items, "next_cursor": None}
        else:
            page = client.list_workflows(project, **filters, limit=limit, cursor=cursor)
    if as_json:
        emit(page)
        return
    if not page["items"]:
        say(f"no workflows in project {project}" + (" trash" if deleted else ""))
        return
    grid = table("key", "name", "version", "published", "tags", "updated")
    if deleted:
        grid.add_column("id", no_wrap=True, min_width=36)
    for item in page["items"]:
        row = [
            item["key"],
            item["name"],
            str(item["version"]),
            str(item["published_version"] or "-"),
            ", ".join(item["tags"]),
            when(item["updated_at"]),
        ]
        add_row(grid, *row, *([item["id"]] if deleted else []))
    console.print(grid, markup=False, highlight=False)
    if page.get("next_cursor"):
        say(f"more: --cursor {page['next_cursor']}  (or --all)")


@workflows_app.command("show")
@report_errors
def show(
    ref: Ref,
    project: Project = "default",
    version: Annotated[
        int | None, typer.Option("--version", "-v", min=1, help="A version (default: the head).")
    ] = None,
    definition: Annotated[
        bool, typer.Option("--definition", help="Print only the definition JSON.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Show a workflow (or one version); --definition prints the definition to save later."""
    aliases: list[dict[str, Any]] = []
    with api(as_json) as client:
        if version is None:
            body = client.get_workflow(project, ref).body
        else:
            body = client.get_version(project, ref, version)
        if not (definition or as_json):
            aliases = client.list_aliases(project, ref)
    if definition:
        emit(body["definition"])
        return
    if as_json:
        emit(body)
        return
    if version is None:
        say(f"{body['name']}  ({body['key']}, id {body['id']})")
        if body["description"]:
            say(body["description"])
        published = body["published_version"]
        say(f"head version {body['version']}, published version {published or 'none'}")
        if body["tags"]:
            say("tags: " + ", ".join(body["tags"]))
        if aliases:
            say("aliases: " + ", ".join(f"{a['name']} → version {a['version']}" for a in aliases))
        say(f"updated {body['updated_at']} by {body['updated_by']}")
        nodes = body["definition"].get("nodes", [])
        say(f"{len(nodes)} node(s): " + ", ".join(f"{n['id']} ({n['type']})" for n in nodes))
    else:
        say(f"{ref} version {body['number']}: {body['state']}")
        if body["tag"]:
            say(f"tag {body['tag']}" + (f": {body['note']}" if body["note"] else ""))
        say(f"created {body['created_at']} by {body['created_by']}: {body['message']}")
        if body["published_at"]:
            say(f"published {body['published_at']} by {body['published_by']}")
        pointing = [a["name"] for a in aliases if a["version"] == body["number"]]
        if pointing:
            say("aliases: " + ", ".join(pointing))
    problems_note(body)


@workflows_app.command("history")
@report_errors
def history(
    ref: Ref,
    project: Project = "default",
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many versions.")] = 50,
    as_json: AsJson = False,
) -> None:
    """Versions of a workflow, newest first."""
    with api(as_json) as client:
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


@workflows_app.command("diff")
@report_errors
def diff(
    ref: Ref,
    old: Annotated[int, typer.Argument(min=1, help="The version to compare from.")],
    new: Annotated[int, typer.Argument(min=1, help="The version to compare to.")],
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """What changed between two versions: nodes, edges, settings, and layout apart."""
    with api(as_json) as client:
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


@workflows_app.command("create")
@report_errors
def create(
    name: Annotated[str, typer.Argument(help="Display name; the key is derived from it.")],
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Definition JSON file; - is stdin."),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            "-t",
            help="A built-in key (builtin:KEY to insist), or a template workflow's key or id"
            " (see `templates`).",
        ),
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="The key (default: from the name).")
    ] = None,
    tags: Annotated[list[str] | None, typer.Option("--tag", help="A tag; repeatable.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
    is_template: Annotated[
        bool, typer.Option("--is-template", help="Offer it as a template to create others from.")
    ] = False,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Create a workflow from a definition file or a template; its first version is 1."""
    if (file is None) == (template is None):
        errors.print("[red]error:[/red] give exactly one of --file or --template")
        raise typer.Exit(2)
    definition = read_definition_file(file) if file is not None else None
    with api(as_json) as client:
        created = client.create_workflow(
            project,
            name,
            definition=definition,
            template=template,
            key=key,
            description=description,
            tags=tags or (),
            is_template=is_template,
        )
    if as_json:
        emit(created.body)
        return
    body = created.body
    say(f"created workflow {body['key']} ({body['id']}), version {created.version}")
    problems_note(body)


@workflows_app.command("save")
@report_errors
def save(
    ref: Ref,
    file: DefinitionFile,
    message: Annotated[str, typer.Option("--message", "-m", help="What changed.")] = "",
    base: Annotated[
        int | None,
        typer.Option(
            "--base",
            min=1,
            help="The version your edit started from (default: the current head). An older"
            " base is merged with the changes saved since.",
        ),
    ] = None,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Save a definition as the next version. Conflicting changes exit 1 with their pointers."""
    definition = read_definition_file(file)
    with api(as_json) as client:
        if base is None:
            head = client.get_workflow(project, ref)
            base_version, base_definition = head.version, head.body.get("definition")
        else:
            base_version, base_definition = base, None
            try:
                base_definition = client.get_version(project, ref, base).get("definition")
            except ClientError as error:
                if error.http_status != 404:
                    raise  # no such version: the save itself says so (412)
        try:
            # A patch from the base when it is smaller than the document.
            saved = client.save_workflow(
                project, ref, definition, base_version, message, base_definition=base_definition
            )
        except ClientError as error:
            if error.http_status == 409 and error.conflicts:
                if as_json:
                    emit(error.body)
                print_conflicts(ref, error)
                raise typer.Exit(1) from error
            raise
    if as_json:
        emit(saved.body)
        return
    report_save(ref, base_version, saved)


def report_save(ref: str, base_version: int, saved: Versioned) -> None:
    key = saved.body["key"]
    if saved.merged:
        say(
            f"saved version {saved.version} of {key}: merged with newer changes"
            f" saved since version {base_version}"
        )
    elif saved.version == base_version:
        say(f"no changes: version {saved.version} of {key} already has this content")
    else:
        say(f"saved version {saved.version} of {key}")
    problems_note(saved.body)


def print_conflicts(ref: str, error: ClientError) -> None:
    print_error(error)
    for conflict in error.conflicts:
        where = "" if conflict.get("side", "yours") == "yours" else " (in theirs)"
        say_to(errors, f"  conflict at {conflict['path']}{where}")
        if conflict.get("reason"):
            say_to(errors, f"    {conflict['reason']}")
        for side in ("base", "theirs", "yours"):
            say_to(errors, f"    {side + ':':8}{show_value(conflict.get(side))}")
    say_to(
        errors,
        f"reload version {error.body.get('head_version')}"
        f" (meshhook workflows show {ref} --definition), reapply your change and save again",
    )


@workflows_app.command("publish")
@report_errors
def publish(
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
    with api(as_json) as client:
        info = client.publish(project, ref, version=version, tag=tag, note=note)
    if as_json:
        emit(info)
        return
    tagged = f" as {info['tag']}" if info["tag"] else ""
    say(f"published version {info['number']} of {ref}{tagged}")


@workflows_app.command("revert")
@report_errors
def revert(
    ref: Ref,
    version: Annotated[int, typer.Argument(min=1, help="The version whose content to restore.")],
    publish: Annotated[bool, typer.Option("--publish", help="Publish the result too.")] = False,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Make a new head version equal to an older one (history is kept)."""
    with api(as_json) as client:
        reverted = client.revert(project, ref, version, publish=publish)
    if as_json:
        emit(reverted.body)
        return
    published = " and published it" if publish else ""
    say(
        f"{reverted.body['key']}: head is version {reverted.version}, with the content of"
        f" version {version}{published}"
    )


@workflows_app.command("alias")
@report_errors
def alias(
    ref: Ref,
    name: Annotated[str | None, typer.Argument(help="Alias name, e.g. production.")] = None,
    version: Annotated[
        int | None, typer.Argument(min=1, help="A published version to point it at.")
    ] = None,
    list_them: Annotated[bool, typer.Option("--list", help="List the aliases.")] = False,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Point an alias at a published version (admin), or list them with --list."""
    if list_them or name is None:
        if name is not None:
            errors.print("[red]error:[/red] --list takes no NAME or VERSION")
            raise typer.Exit(2)
        with api(as_json) as client:
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
    with api(as_json) as client:
        found = client.set_alias(project, ref, name, version)
    if as_json:
        emit(found)
    else:
        say(f"{ref}: {found['name']} → version {found['version']}")


@workflows_app.command("delete")
@report_errors
def delete(ref: Ref, project: Project = "default") -> None:
    """Move a workflow to the trash; `restore` with its id brings it back."""
    with api() as client:
        workflow = client.get_workflow(project, ref).body
        client.delete_workflow(project, workflow["id"])
    say(f"moved {workflow['key']} to the trash; restore it with:")
    say(f"  meshhook workflows restore {workflow['id']} -p {project}")


@workflows_app.command("restore")
@report_errors
def restore(
    workflow_id: Annotated[str, typer.Argument(help="The id (list --deleted shows it).")],
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Bring a workflow back from the trash (by id: deleted keys may be reused)."""
    with api(as_json) as client:
        restored = client.restore_workflow(project, workflow_id)
    if as_json:
        emit(restored.body)
    else:
        say(f"restored {restored.body['key']} ({workflow_id}), head version {restored.version}")


@workflows_app.command("clone")
@report_errors
def clone(
    ref: Ref,
    name: Annotated[str, typer.Argument(help="Name of the copy.")],
    key: Annotated[str | None, typer.Option("--key", help="Key of the copy.")] = None,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Copy a workflow: the copy's version 1 is the source's head."""
    with api(as_json) as client:
        cloned = client.clone_workflow(project, ref, name, key=key)
    if as_json:
        emit(cloned.body)
    else:
        say(f"cloned {ref} into {cloned.body['key']} ({cloned.body['id']})")


# -- the definition format ---------------------------------------------------------


@workflows_app.command("node-types")
@report_errors
def node_types(as_json: AsJson = False) -> None:
    """The node types a definition may use (--json includes their config schemas)."""
    with api(as_json) as client:
        types = client.node_types()
    if as_json:
        emit(types)
        return
    grid = table("type", "category", "title", "description")
    for item in types:
        add_row(grid, item["name"], item["category"], item["title"], item["description"])
    console.print(grid, markup=False, highlight=False)


@workflows_app.command("templates")
@report_errors
def templates(as_json: AsJson = False) -> None:
    """Templates to create from: built-ins (by key) and your projects' template workflows."""
    with api(as_json) as client:
        found = client.templates()
    if as_json:
        emit(found)
        return
    grid = table("template", "name", "from", "tags")
    for item in found:
        origin = "built-in" if item["builtin"] else f"project {item['project']}"
        add_row(
            grid,
            item["key"] if item["builtin"] else item["id"],
            item["name"],
            origin,
            ", ".join(item["tags"]),
        )
    console.print(grid, markup=False, highlight=False)
