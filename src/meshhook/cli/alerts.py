"""``meshhook alerts ...``: alert rules, destinations, the delivery log and
test alerts (over the HTTP API: MESHHOOK_URL, MESHHOOK_TOKEN)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from meshhook.cli.common import console, report_errors
from meshhook.cli.output import add_row, emit, say, table, when
from meshhook.cli.remote import AsJson, Project, api

alerts_app = typer.Typer(
    help="Alert rules and destinations (over the HTTP API: MESHHOOK_URL, MESHHOOK_TOKEN).",
    no_args_is_help=True,
)
rules_app = typer.Typer(help="Alert rules: what fires an alert, and where it goes.")
destinations_app = typer.Typer(help="Alert destinations: signed webhooks and Slack.")
alerts_app.add_typer(rules_app, name="rules")
alerts_app.add_typer(destinations_app, name="destinations")

RuleRef = Annotated[str, typer.Argument(help="The rule's name or id.")]
DestinationRef = Annotated[str, typer.Argument(help="The destination's name or id.")]
Name = Annotated[str | None, typer.Option("--name", help="A new name.")]
Workflow = Annotated[
    str | None, typer.Option("--workflow", "-w", help="Only this workflow (key or id).")
]
Threshold = Annotated[
    float | None,
    typer.Option(help="failure_rate: percent (0-100); queue_lag: seconds."),
]
WindowOption = Annotated[str | None, typer.Option(help="failure_rate window: 1h, 24h, 7d, 30d.")]
MinRuns = Annotated[int | None, typer.Option("--min-runs", help="failure_rate: runs needed.")]
Cooldown = Annotated[
    int | None, typer.Option("--cooldown", help="Seconds between two alerts of the rule.")
]
Destinations = Annotated[
    list[str] | None,
    typer.Option("--destination", "-d", help="A destination (name or id); repeat for more."),
]
Url = Annotated[str | None, typer.Option(help="An http(s) URL, or {{ secrets.NAME }} holding it.")]
Signing = Annotated[
    str | None,
    typer.Option("--signing-secret", help="webhook: {{ secrets.NAME }} keying the signature."),
]


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


# -- rules ----------------------------------------------------------------------


@rules_app.command("list")
@report_errors
def list_rules(ctx: typer.Context, project: Project, as_json: AsJson = False) -> None:
    """The project's alert rules and whether each is firing."""
    with api(ctx, as_json) as client:
        found = client.list_alerts(project, "rules")
    if as_json:
        emit(found)
        return
    grid = table("name", "kind", "workflow", "threshold", "cool-down", "enabled", "state")
    for rule in found:
        state = rule["state"]
        shown = "FIRING" if state["firing"] else "ok"
        if state["suppressed"]:
            shown += f" ({state['suppressed']} held back)"
        add_row(
            grid,
            rule["name"],
            rule["kind"],
            rule["workflow"] or "(all)",
            _threshold(rule),
            f"{rule['cooldown_seconds']} s",
            "yes" if rule["enabled"] else "no",
            shown,
        )
    console.print(grid)


def _threshold(rule: dict[str, Any]) -> str:
    if rule["kind"] == "failure_rate":
        return f"> {rule['threshold']:g} % over {rule['window']} (min {rule['min_runs']} runs)"
    if rule["kind"] == "queue_lag":
        return f"> {rule['threshold']:g} s"
    return ""


@rules_app.command("create")
@report_errors
def create_rule(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The rule's name.")],
    kind: Annotated[
        str, typer.Option(help="run.failed, run.dead_lettered, failure_rate or queue_lag.")
    ],
    project: Project,
    workflow: Workflow = None,
    threshold: Threshold = None,
    window: WindowOption = None,
    min_runs: MinRuns = None,
    cooldown: Cooldown = None,
    destination: Destinations = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    as_json: AsJson = False,
) -> None:
    """Add an alert rule (admin)."""
    body = _given(
        name=name,
        kind=kind,
        workflow=workflow,
        threshold=threshold,
        window=window,
        min_runs=min_runs,
        cooldown_seconds=cooldown,
        destinations=destination or [],
        enabled=not disabled,
    )
    with api(ctx, as_json) as client:
        created = client.create_alert(project, "rules", body)
    if as_json:
        emit(created)
        return
    say(f"created rule {created['name']} ({created['kind']}) {created['id']}")


@rules_app.command("update")
@report_errors
def update_rule(
    ctx: typer.Context,
    rule: RuleRef,
    project: Project,
    name: Name = None,
    workflow: Workflow = None,
    threshold: Threshold = None,
    window: WindowOption = None,
    min_runs: MinRuns = None,
    cooldown: Cooldown = None,
    destination: Destinations = None,
    enabled: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Switch the rule on or off.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Change a rule (admin); options not given are kept, and so is its state."""
    body = _given(
        name=name,
        workflow=workflow,
        threshold=threshold,
        window=window,
        min_runs=min_runs,
        cooldown_seconds=cooldown,
        destinations=destination,
        enabled=enabled,
    )
    _update(ctx, project, "rules", rule, body, as_json=as_json)


@rules_app.command("delete")
@report_errors
def delete_rule(ctx: typer.Context, rule: RuleRef, project: Project) -> None:
    """Delete a rule (admin)."""
    _delete(ctx, project, "rules", rule)


# -- destinations -----------------------------------------------------------------


@destinations_app.command("list")
@report_errors
def list_destinations(ctx: typer.Context, project: Project, as_json: AsJson = False) -> None:
    """The project's alert destinations (URLs shown as scheme and host)."""
    with api(ctx, as_json) as client:
        found = client.list_alerts(project, "destinations")
    if as_json:
        emit(found)
        return
    grid = table("name", "kind", "url", "signing secret", "id")
    for item in found:
        add_row(
            grid, item["name"], item["kind"], item["url"], item["signing_secret"] or "", item["id"]
        )
    console.print(grid)


@destinations_app.command("create")
@report_errors
def create_destination(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The destination's name.")],
    kind: Annotated[str, typer.Option(help="webhook (signed JSON) or slack ({text}).")],
    url: Annotated[str, typer.Option(help="An http(s) URL, or {{ secrets.NAME }} holding it.")],
    project: Project,
    signing_secret: Signing = None,
    as_json: AsJson = False,
) -> None:
    """Add an alert destination (admin)."""
    body = _given(name=name, kind=kind, url=url, signing_secret=signing_secret)
    with api(ctx, as_json) as client:
        created = client.create_alert(project, "destinations", body)
    if as_json:
        emit(created)
        return
    say(f"created destination {created['name']} ({created['kind']}) {created['id']}")


@destinations_app.command("update")
@report_errors
def update_destination(
    ctx: typer.Context,
    destination: DestinationRef,
    project: Project,
    name: Name = None,
    url: Url = None,
    signing_secret: Signing = None,
    as_json: AsJson = False,
) -> None:
    """Change a destination (admin); options not given are kept."""
    body = _given(name=name, url=url, signing_secret=signing_secret)
    _update(ctx, project, "destinations", destination, body, as_json=as_json)


@destinations_app.command("delete")
@report_errors
def delete_destination(ctx: typer.Context, destination: DestinationRef, project: Project) -> None:
    """Delete a destination and its delivery log (admin); rules drop it."""
    _delete(ctx, project, "destinations", destination)


# -- deliveries and tests -------------------------------------------------------------


@alerts_app.command("deliveries")
@report_errors
def deliveries(
    ctx: typer.Context,
    project: Project,
    destination: Annotated[str | None, typer.Option(help="Only this destination.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    as_json: AsJson = False,
) -> None:
    """Alert deliveries, newest first, with their last attempt."""
    with api(ctx, as_json) as client:
        found = client.alert_deliveries(project, destination=destination, rule=rule, limit=limit)
    if as_json:
        emit(found)
        return
    grid = table("created", "event", "status", "attempts", "last answer", "ms", "next try", "id")
    for item in found["items"]:
        add_row(grid, *_delivery_cells(item))
    console.print(grid)


def _delivery_cells(item: dict[str, Any]) -> list[str]:
    last = item["attempts"][-1] if item["attempts"] else None
    answer = ""
    if last is not None:
        answer = str(last["status_code"]) if last["error"] is None else last["error"]
    return [
        when(item["created_at"]),
        item["event"],
        item["status"],
        str(len(item["attempts"])),
        answer,
        f"{last['latency_ms']:.1f}" if last else "",
        when(item["next_attempt_at"]) if item["next_attempt_at"] else "",
        item["id"],
    ]


@alerts_app.command("test")
@report_errors
def send_test(
    ctx: typer.Context, destination: DestinationRef, project: Project, as_json: AsJson = False
) -> None:
    """Send a test alert to a destination now (admin); exit 1 unless it was
    delivered (a failed first attempt is retried by the workers)."""
    with api(ctx, as_json) as client:
        sent = client.test_alert(project, destination)
    if as_json:
        emit(sent)
    else:
        cells = _delivery_cells(sent)
        answer = cells[4] or "no attempt yet"
        say(f"{sent['status']}: {answer} ({cells[5]} ms) delivery {sent['id']}")
    if sent["status"] != "delivered":
        raise typer.Exit(1)


def _update(
    ctx: typer.Context, project: str, what: str, ref: str, body: dict[str, Any], *, as_json: bool
) -> None:
    """PATCH a rule or destination (``what``) and say what it is now."""
    with api(ctx, as_json) as client:
        changed = client.update_alert(project, what, ref, body)
    if as_json:
        emit(changed)
        return
    say(f"updated {what[:-1]} {changed['name']}")


def _delete(ctx: typer.Context, project: str, what: str, ref: str) -> None:
    with api(ctx) as client:
        client.delete_alert(project, what, ref)
    say(f"deleted {what[:-1]} {ref}")
