"""``meshhook workflows ...`` and ``meshhook validate``, driven like a user would.

The CLI's HTTP client is routed into the in-process app through the ``client``
fixture (a starlette TestClient is an httpx client), so every command really
goes through the API, on both database backends.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from meshhook.cli.client import ClientError, MeshHookClient
from tests.definitions import edited, linear
from tests.factories import Member
from tests.integration.conftest import Cli

BASE = "/api/v1/projects/alpha/workflows"


def write(tmp_path: Path, definition: Any, name: str = "definition.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(definition))
    return str(path)


def create_sync(cli: Cli, tmp_path: Path) -> None:
    cli("workflows", "create", "Sync", "--file", write(tmp_path, linear(), "sync.json"))


def read(client: TestClient, owner: Member, ref: str = "sync") -> dict[str, Any]:
    response = client.get(f"{BASE}/{ref}", headers=owner.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_from_a_file_then_list_as_a_table_and_as_json(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path
) -> None:
    created = cli(
        "workflows", "create", "Order sync", "-f", write(tmp_path, linear()), "--tag", "sales"
    )
    assert "created workflow order-sync" in created.stdout
    assert "version 1" in created.stdout
    stored = read(client, owner, "order-sync")
    assert stored["definition"] == linear()
    assert stored["tags"] == ["sales"]

    table = cli("workflows", "list").stdout
    assert "order-sync" in table
    assert "Order sync" in table
    assert "sales" in table
    listed = json.loads(cli("workflows", "list", "--json").stdout)
    assert [item["key"] for item in listed["items"]] == ["order-sync"]
    assert listed["next_cursor"] is None
    assert "no workflows" in cli("workflows", "list", "--tag", "other").stdout


def test_create_from_a_template_and_refuse_both_or_neither_source(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path
) -> None:
    assert "webhook-to-http" in cli("workflows", "templates").stdout
    cli("workflows", "create", "Hooked", "--template", "webhook-to-http", "--key", "hooked")
    assert read(client, owner, "hooked")["definition"]["nodes"][0]["type"] == "webhook"
    neither = cli("workflows", "create", "Nothing", code=2)
    assert "exactly one of --file or --template" in neither.output
    both = cli(
        "workflows", "create", "X", "-f", write(tmp_path, linear()), "-t", "webhook-to-http", code=2
    )
    assert "exactly one" in both.output


def test_saves_make_versions_that_history_lists_newest_first(
    cli: Cli, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    second = write(tmp_path, edited(linear(), "send", "url", "https://b.example"))
    assert (
        "saved version 2 of sync"
        in cli("workflows", "save", "sync", "-f", second, "-m", "b").stdout
    )
    third = write(tmp_path, edited(linear(), "send", "url", "https://c.example"), "c.json")
    assert (
        "saved version 3 of sync" in cli("workflows", "save", "sync", "-f", third, "-m", "c").stdout
    )
    same = cli("workflows", "save", "sync", "-f", third)
    assert "no changes: version 3" in same.stdout

    versions = json.loads(cli("workflows", "history", "sync", "--json").stdout)
    assert [(v["number"], v["message"]) for v in versions] == [
        (3, "c"),
        (2, "b"),
        (1, "Created"),
    ]
    table = cli("workflows", "history", "sync").stdout
    assert "alice@example.com" in table
    assert "Created" in table
    assert [
        v["number"]
        for v in json.loads(cli("workflows", "history", "sync", "--limit", "1", "--json").stdout)
    ] == [3]


def test_a_save_sends_a_patch_when_it_is_smaller_than_the_document(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, run = client, cli
    create_sync(cli, tmp_path)
    sent: list[tuple[str, str]] = []
    preferred: list[str | None] = []
    real = MeshHookClient._send

    def spy(self: MeshHookClient, method: str, path: str, **options: Any) -> Any:
        sent.append((method, path))
        preferred.append((options.get("headers") or {}).get("Prefer"))
        return real(self, method, path, **options)

    monkeypatch.setattr(MeshHookClient, "_send", spy)
    big = linear()
    for i in range(40):
        big["nodes"].append({"id": f"n{i}", "type": "transform", "config": {"expression": "a"}})
        big["edges"].append({"from": "send" if i == 0 else f"n{i - 1}", "to": f"n{i}"})
    run("workflows", "save", "sync", "-f", write(tmp_path, big, "big.json"), "-m", "grow")
    # Forty new nodes: the patch would not be smaller, so the document goes.
    assert ("PUT", "/projects/alpha/workflows/sync") in sent
    sent.clear()
    one = edited(big, "send", "url", "https://b.example")
    out = run("workflows", "save", "sync", "-f", write(tmp_path, one, "one.json"), "-m", "url")
    assert "saved version 3 of sync" in out.stdout
    assert ("PATCH", "/projects/alpha/workflows/sync/definition") in sent
    # The saved definition is not needed back: the save asks to leave it out.
    assert preferred[sent.index(("PATCH", "/projects/alpha/workflows/sync/definition"))] == (
        "return=minimal"
    )
    assert read(api, owner)["definition"] == one
    history = json.loads(run("workflows", "history", "sync", "--json").stdout)
    assert history[0]["message"] == "url"
    # With --base, the patch is from that version (merged like any stale save).
    sent.clear()
    older = edited(big, "shape", "expression", "{id: id}")
    merged = run("workflows", "save", "sync", "-f", write(tmp_path, older, "o.json"), "--base", "2")
    assert "merged with newer changes" in merged.stdout
    assert ("PATCH", "/projects/alpha/workflows/sync/definition") in sent
    nodes = {n["id"]: n["config"] for n in read(api, owner)["definition"]["nodes"]}
    assert nodes["send"]["url"] == "https://b.example"
    assert nodes["shape"]["expression"] == "{id: id}"


def test_a_stale_save_touching_other_nodes_is_merged_and_says_so(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    theirs = write(tmp_path, edited(linear(), "send", "url", "https://theirs.example"), "t.json")
    cli("workflows", "save", "sync", "-f", theirs)
    yours = write(tmp_path, edited(linear(), "shape", "expression", "{id: id}"), "y.json")
    merged = cli("workflows", "save", "sync", "-f", yours, "--base", "1")
    assert "saved version 3 of sync: merged with newer changes" in merged.stdout
    configs = {node["id"]: node["config"] for node in read(client, owner)["definition"]["nodes"]}
    assert configs["send"]["url"] == "https://theirs.example"
    assert configs["shape"]["expression"] == "{id: id}"


def test_a_conflicting_save_exits_1_and_prints_each_pointer_with_its_three_values(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    theirs = write(tmp_path, edited(linear(), "send", "url", "https://theirs.example"), "t.json")
    cli("workflows", "save", "sync", "-f", theirs)
    yours = write(tmp_path, edited(linear(), "send", "url", "https://yours.example"), "y.json")
    refused = cli("workflows", "save", "sync", "-f", yours, "--base", "1", code=1)
    assert "conflict at /nodes/2/config/url" in refused.stderr
    assert 'base:   "https://api.example.com/orders"' in refused.stderr
    assert 'theirs: "https://theirs.example"' in refused.stderr
    assert 'yours:  "https://yours.example"' in refused.stderr
    assert "reload version 2" in refused.stderr
    as_json = cli("workflows", "save", "sync", "-f", yours, "--base", "1", "--json", code=1)
    assert json.loads(as_json.stdout)["conflicts"][0]["path"] == "/nodes/2/config/url"
    assert read(client, owner)["version"] == 2


def test_server_hints_are_given_as_cli_options_not_http(
    cli: Cli, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    unknown_base = cli(
        "workflows", "save", "sync", "-f", write(tmp_path, linear()), "--base", "9", code=1
    )
    assert "--base names version 9, which this workflow does not have" in unknown_base.stderr
    assert "If-Match" not in unknown_base.stderr
    unknown_template = cli("workflows", "create", "X", "--template", "nope", code=1)
    assert "see meshhook workflows templates" in unknown_template.stderr
    assert "GET /api" not in unknown_template.stderr
    as_json = cli(
        "workflows",
        "save",
        "sync",
        "-f",
        write(tmp_path, linear()),
        "--base",
        "9",
        "--json",
        code=1,
    )
    assert "If-Match names version 9" in json.loads(as_json.stdout)["detail"]  # the server's words


def test_publish_with_a_tag_and_a_refused_publish_lists_the_problems(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    published = cli("workflows", "publish", "sync", "--tag", "v1.0.0", "--note", "first")
    assert "published version 1 of sync as v1.0.0" in published.stdout
    version = json.loads(cli("workflows", "show", "sync", "--version", "1", "--json").stdout)
    assert (version["state"], version["tag"], version["note"]) == ("published", "v1.0.0", "first")

    broken = write(tmp_path, edited(linear(), "shape", "expression", "{{nope"), "broken.json")
    saved = cli("workflows", "save", "sync", "-f", broken)
    assert "problems that block publishing (1)" in saved.stdout
    assert "/nodes/1/config/expression" in saved.stdout
    refused = cli("workflows", "publish", "sync", code=1)
    assert "version 2 cannot be published" in refused.stderr
    assert "/nodes/1/config/expression" in refused.stderr
    assert read(client, owner)["published_version"] == 1


def test_diff_summarises_nodes_edges_settings_and_layout(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    changed = edited(linear(), "send", "url", "https://b.example")
    changed["nodes"][0]["position"] = {"x": 10, "y": 50}
    changed["nodes"].append(
        {
            "id": "stop",
            "type": "terminate",
            "config": {"status": "succeeded"},
            "position": {"x": 600, "y": 0},
        }
    )
    changed["edges"].append({"from": "send", "to": "stop"})
    changed["settings"] = {"timeout_seconds": 5}
    cli("workflows", "save", "sync", "-f", write(tmp_path, changed, "changed.json"))

    lines = [
        line.strip() for line in cli("workflows", "diff", "sync", "1", "2").stdout.splitlines()
    ]
    assert lines[0] == "version 1 → 2"
    assert "+ stop (terminate)" in lines
    assert "~ send" in lines
    assert '/config/url: "https://api.example.com/orders" → "https://b.example"' in lines
    assert "+ send → stop" in lines
    assert "/timeout_seconds: 60 → 5" in lines
    assert "start moved (0, 0) → (10, 50)" in lines
    assert "~ start" not in lines  # a move is layout, not a change
    assert "no differences" in cli("workflows", "diff", "sync", "2", "2").stdout
    summary = json.loads(cli("workflows", "diff", "sync", "1", "2", "--json").stdout)["summary"]
    assert (summary["nodes_added"], summary["nodes_moved"]) == (1, 1)


def test_revert_makes_a_new_head_with_the_old_content_and_can_publish_it(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    changed = copy.deepcopy(linear())
    changed["settings"] = {"timeout_seconds": 5}
    cli("workflows", "save", "sync", "-f", write(tmp_path, changed, "changed.json"))
    reverted = cli("workflows", "revert", "sync", "1", "--publish")
    assert "head is version 3, with the content of version 1 and published it" in reverted.stdout
    body = read(client, owner)
    assert (body["version"], body["published_version"]) == (3, 3)
    assert body["definition"] == linear()
    missing = cli("workflows", "revert", "sync", "42", code=1)
    assert "no version 42" in missing.stderr


def test_aliases_point_at_published_versions_and_list(
    cli: Cli, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    assert "sync has no aliases" in cli("workflows", "alias", "sync", "--list").stdout
    draft = cli("workflows", "alias", "sync", "production", "1", code=1)
    assert "draft" in draft.stderr
    cli("workflows", "publish", "sync")
    assert "production → version 1" in cli("workflows", "alias", "sync", "production", "1").stdout
    assert "production" in cli("workflows", "alias", "sync", "--list").stdout
    listed = json.loads(cli("workflows", "alias", "sync", "--json").stdout)
    assert [(a["name"], a["version"]) for a in listed] == [("production", 1)]
    assert "aliases: production → version 1" in cli("workflows", "show", "sync").stdout
    assert "aliases: production" in cli("workflows", "show", "sync", "--version", "1").stdout
    assert "give the VERSION" in cli("workflows", "alias", "sync", "staging", code=2).output
    removed = cli("workflows", "alias", "sync", "production", "--delete").stdout
    assert "sync: alias production removed" in removed
    assert "sync has no aliases" in cli("workflows", "alias", "sync", "--list").stdout
    assert (
        "no alias 'production'"
        in cli("workflows", "alias", "sync", "production", "--delete", code=1).stderr
    )
    assert "NAME only" in cli("workflows", "alias", "sync", "--delete", code=2).output


def test_delete_moves_to_the_trash_and_restore_by_id_brings_it_back(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    workflow_id = read(client, owner)["id"]
    deleted = cli("workflows", "delete", "sync")
    assert f"meshhook workflows restore {workflow_id}" in deleted.stdout
    assert "no workflows" in cli("workflows", "list").stdout
    assert workflow_id in cli("workflows", "list", "--deleted").stdout
    gone = cli("workflows", "show", "sync", code=1)
    assert "no workflow 'sync'" in gone.stderr
    by_key = cli("workflows", "restore", "sync", code=1)
    assert "restore needs the workflow's id" in by_key.stderr
    assert "find the id with meshhook workflows list --deleted -p alpha" in by_key.stderr
    restored = cli("workflows", "restore", workflow_id)
    assert f"restored sync ({workflow_id})" in restored.stdout
    assert read(client, owner)["id"] == workflow_id


def test_clone_and_show(cli: Cli, client: TestClient, owner: Member, tmp_path: Path) -> None:
    create_sync(cli, tmp_path)
    cloned = cli("workflows", "clone", "sync", "Sync copy", "--key", "sync-copy")
    assert "cloned sync into sync-copy" in cloned.stdout
    assert read(client, owner, "sync-copy")["definition"] == linear()
    shown = cli("workflows", "show", "sync-copy").stdout
    assert "head version 1, published version none" in shown
    assert "send (http_call)" in shown
    definition = cli("workflows", "show", "sync", "--definition").stdout
    assert json.loads(definition) == linear()


def test_show_definition_round_trips_into_save(
    cli: Cli, client: TestClient, owner: Member, tmp_path: Path
) -> None:
    create_sync(cli, tmp_path)
    document = json.loads(cli("workflows", "show", "sync", "--json").stdout)
    document["definition"]["settings"] = {"timeout_seconds": 9}
    # A whole document (with a "definition" key) is accepted, from stdin too.
    cli("workflows", "save", "sync", "-f", "-", stdin=json.dumps(document))
    assert read(client, owner)["definition"]["settings"] == {"timeout_seconds": 9}


def test_list_pages_and_all_fetches_every_page(cli: Cli, owner: Member, tmp_path: Path) -> None:
    path = write(tmp_path, linear())
    for name in ("One", "Two", "Three"):
        cli("workflows", "create", name, "-f", path)
    first = cli("workflows", "list", "--limit", "2", "--sort", "name").stdout
    assert "more: --cursor" in first
    everything = json.loads(cli("workflows", "list", "--all", "--limit", "2", "--json").stdout)
    assert sorted(item["key"] for item in everything["items"]) == ["one", "three", "two"]


def test_node_types_are_listed(cli: Cli) -> None:
    table = cli("workflows", "node-types").stdout
    assert "http_call" in table
    assert "terminate" in table


def test_server_errors_are_one_clear_message(
    offline_cli: Cli, client: TestClient, owner: Member
) -> None:
    wrong = offline_cli.as_token(client, "mh_wrong")
    refused = wrong("workflows", "list", "-p", "alpha", code=1)
    assert "check MESHHOOK_TOKEN" in refused.stderr
    alice = offline_cli.as_token(client, owner.token)
    # Details quote user input; it must print as typed, not be read as Rich markup.
    missing = alice("workflows", "show", "[eu]", "-p", "alpha", code=1)
    assert "no workflow '[eu]' in project 'alpha'" in missing.stderr
    # An unmatched closing tag would crash Rich's markup parser.
    assert "[/eu]" in alice("workflows", "show", "[/eu]", "-p", "alpha", code=1).stderr
    direct = MeshHookClient("http://testserver", owner.token, session=client)
    with pytest.raises(ClientError) as caught:
        direct.get_workflow("alpha", "nope")
    assert caught.value.http_status == 404


def test_a_missing_token_is_a_clear_error(
    offline_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MESHHOOK_TOKEN", raising=False)
    result = offline_cli("workflows", "list", code=2)
    assert "MESHHOOK_TOKEN is not set" in result.stderr


def test_an_unreachable_server_is_a_clear_error(
    offline_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHHOOK_TOKEN", "mh_anything")
    monkeypatch.setenv("MESHHOOK_URL", "http://127.0.0.1:9")
    result = offline_cli("workflows", "list", code=1)
    assert "cannot reach MeshHook at http://127.0.0.1:9" in result.stderr


def test_validate_offline_accepts_a_valid_definition(offline_cli: Cli, tmp_path: Path) -> None:
    result = offline_cli("validate", write(tmp_path, linear()))
    assert "valid" in result.stdout
    report = json.loads(offline_cli("validate", write(tmp_path, linear()), "--json").stdout)
    assert report == {"valid": True, "errors": [], "warnings": []}


def test_validate_offline_lists_errors_and_warnings_with_pointers(
    offline_cli: Cli, tmp_path: Path
) -> None:
    broken = edited(linear(), "shape", "expression", "{{nope")
    broken["nodes"].append(
        {
            "id": "lost",
            "type": "transform",
            "config": {"expression": "a"},
            "position": {"x": 0, "y": 99},
        }
    )
    result = offline_cli("validate", write(tmp_path, broken), code=1)
    errors_at = result.stdout.index("errors (1):")
    warnings_at = result.stdout.index("warnings (1):")
    assert errors_at < result.stdout.index("/nodes/1/config/expression") < warnings_at
    assert "/nodes/3" in result.stdout[warnings_at:]
    assert "publishing is blocked" in result.stdout
    report = json.loads(offline_cli("validate", write(tmp_path, broken), "--json", code=1).stdout)
    assert report["valid"] is False
    assert [problem["path"] for problem in report["errors"]] == ["/nodes/1/config/expression"]
    assert [problem["severity"] for problem in report["warnings"]] == ["warning"]


def test_validate_offline_reports_structural_problems(offline_cli: Cli, tmp_path: Path) -> None:
    broken = linear()
    broken["edges"].append({"from": "send", "to": "ghost"})
    result = offline_cli("validate", write(tmp_path, broken), code=1)
    assert "/edges/2" in result.stdout
    assert "a save would be refused" in result.stdout


def test_validate_exits_2_on_a_malformed_or_missing_file(offline_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"nodes": [')
    malformed = offline_cli("validate", str(path), code=2)
    assert "is not valid JSON" in malformed.stderr
    missing = offline_cli("validate", str(tmp_path / "absent.json"), code=2)
    assert "cannot read" in missing.stderr
