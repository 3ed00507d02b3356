"""``meshhook workflows ...``: workflows and their versions, over the HTTP API.

Unlike the admin commands these never open the database: they call the server
at ``MESHHOOK_URL`` with ``MESHHOOK_TOKEN``, so they work against a remote
installation too. Tables for people, ``--json`` (the server's JSON, unchanged)
for scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from meshhook.cli import versions
from meshhook.cli.client import ClientError, Versioned
from meshhook.cli.common import console, errors, report_errors
from meshhook.cli.output import (
    add_row,
    emit,
    print_error,
    problems_note,
    say,
    say_to,
    show_value,
    table,
    when,
)
from meshhook.cli.remote import AsJson, Project, Ref, api
from meshhook.cli.validate import read_definition_file

workflows_app = typer.Typer(
    help="Workflows and their versions (over the HTTP API: MESHHOOK_URL, MESHHOOK_TOKEN).",
    no_args_is_help=True,
)

DefinitionFile = Annotated[
    Path,
    typer.Option(
        "--file", "-f", help="Definition JSON (or a document with a 'definition' key); - is stdin."
    ),
]


# -- reading -------------------------------------------------------------------


@workflows_app.command("list")
@report_errors
def list_workflows(
    ctx: typer.Context,
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
    with api(ctx, as_json) as client:
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
    ctx: typer.Context,
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
    timers: list[dict[str, Any]] = []
    with api(ctx, as_json) as client:
        if version is None:
            body = client.get_workflow(project, ref).body
        else:
            body = client.get_version(project, ref, version)
        if not (definition or as_json):
            aliases = client.list_aliases(project, ref)
            if version is None:
                timers = client.get_schedule(project, ref, count=3)["items"]
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
            say("aliases: " + ", ".join(versions.alias_text(a) for a in aliases))
        for timer in timers:
            say(f"schedule {timer['node_id']}: next " + ", ".join(timer["upcoming"]))
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


@workflows_app.command("create")
@report_errors
def create(
    ctx: typer.Context,
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
    with api(ctx, as_json) as client:
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
    ctx: typer.Context,
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
    with api(ctx, as_json) as client:
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
                project,
                ref,
                definition,
                base_version,
                message,
                base_definition=base_definition,
                minimal=not as_json,  # the JSON output shows the saved definition
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


@workflows_app.command("delete")
@report_errors
def delete(ctx: typer.Context, ref: Ref, project: Project = "default") -> None:
    """Move a workflow to the trash; `restore` with its id brings it back."""
    with api(ctx) as client:
        workflow = client.get_workflow(project, ref).body
        client.delete_workflow(project, workflow["id"])
    say(f"moved {workflow['key']} to the trash; restore it with:")
    say(f"  meshhook workflows restore {workflow['id']} -p {project}")


@workflows_app.command("restore")
@report_errors
def restore(
    ctx: typer.Context,
    workflow_id: Annotated[str, typer.Argument(help="The id (list --deleted shows it).")],
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Bring a workflow back from the trash (by id: deleted keys may be reused)."""
    with api(ctx, as_json) as client:
        restored = client.restore_workflow(project, workflow_id)
    if as_json:
        emit(restored.body)
    else:
        say(f"restored {restored.body['key']} ({workflow_id}), head version {restored.version}")


@workflows_app.command("clone")
@report_errors
def clone(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[str, typer.Argument(help="Name of the copy.")],
    key: Annotated[str | None, typer.Option("--key", help="Key of the copy.")] = None,
    project: Project = "default",
    as_json: AsJson = False,
) -> None:
    """Copy a workflow: the copy's version 1 is the source's head."""
    with api(ctx, as_json) as client:
        cloned = client.clone_workflow(project, ref, name, key=key)
    if as_json:
        emit(cloned.body)
    else:
        say(f"cloned {ref} into {cloned.body['key']} ({cloned.body['id']})")


# -- the definition format ---------------------------------------------------------


@workflows_app.command("node-types")
@report_errors
def node_types(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The node types a definition may use (--json includes their config schemas)."""
    with api(ctx, as_json) as client:
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
def templates(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Templates to create from: built-ins (by key) and your projects' template workflows."""
    with api(ctx, as_json) as client:
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


# The versions' commands live in cli/versions.py.
workflows_app.command("history")(versions.history)
workflows_app.command("diff")(versions.diff)
workflows_app.command("publish")(versions.publish)
workflows_app.command("revert")(versions.revert)
workflows_app.command("alias")(versions.alias)
workflows_app.command("schedule")(versions.schedule)
