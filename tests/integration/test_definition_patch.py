"""PATCH .../workflows/{w}/definition: an RFC 6902 JSON Patch on the If-Match
version, then saved exactly as a PUT would be (issue #15 §4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from meshhook.domain.accounts import Role
from meshhook.domain.preparation import SOUND
from meshhook.store.db import Database
from tests.definitions import edited, linear
from tests.factories import PASSWORD, Member, add_member, assert_problem, make_user

BASE = "/api/v1/projects/alpha/workflows"
URL = f"{BASE}/sync"
PATCH_TYPE = "application/json-patch+json"


def _create(client: TestClient, member: Member) -> None:
    made = client.post(BASE, json={"name": "Sync", "definition": linear()}, headers=member.headers)
    assert made.status_code == 201, made.text


def _patch(
    client: TestClient,
    member: Member,
    ops: Any,
    base: int | None,
    *,
    content_type: str = PATCH_TYPE,
    message: str = "",
) -> Any:
    headers = {**member.headers, "Content-Type": content_type}
    if base is not None:
        headers["If-Match"] = f'"{base}"'
    return client.patch(
        f"{URL}/definition",
        content=orjson.dumps(ops),
        headers=headers,
        params={"message": message} if message else None,
    )


def _url_op(value: str) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/nodes/2/config/url", "value": value}]


def test_a_patch_saves_what_the_same_put_saves(client: TestClient, owner: Member) -> None:
    _create(client, owner)
    patched = _patch(client, owner, _url_op("https://b.example"), 1, message="via patch")
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == '"2"'
    body = patched.json()
    assert body["definition"] == edited(linear(), "send", "url", "https://b.example")
    assert body["merged"] is False
    history = client.get(f"{URL}/versions", headers=owner.headers).json()["items"]
    assert (history[0]["number"], history[0]["message"]) == (2, "via patch")
    # The same content by PUT creates nothing: one hash, one version.
    put = client.put(
        URL,
        json={"definition": body["definition"]},
        headers={**owner.headers, "If-Match": '"2"'},
    )
    assert put.headers["etag"] == '"2"'
    assert put.json()["content_hash"] == body["content_hash"]
    # An empty patch is identical content: nothing new either.
    assert _patch(client, owner, [], 2).headers["etag"] == '"2"'


def test_a_patch_needs_its_media_type_and_if_match(client: TestClient, owner: Member) -> None:
    _create(client, owner)
    assert_problem(
        _patch(client, owner, _url_op("https://b.example"), 1, content_type="application/json"), 415
    )
    assert_problem(_patch(client, owner, _url_op("https://b.example"), None), 428)
    refused = assert_problem(_patch(client, owner, _url_op("https://b.example"), 7), 412)
    assert refused["head_version"] == 1
    garbage = client.patch(
        f"{URL}/definition",
        content=b"[{",
        headers={**owner.headers, "Content-Type": PATCH_TYPE, "If-Match": '"1"'},
    )
    assert_problem(garbage, 400)
    assert client.get(URL, headers=owner.headers).headers["etag"] == '"1"'


def test_a_patch_that_does_not_apply_points_into_the_patch(
    client: TestClient, owner: Member
) -> None:
    _create(client, owner)
    ops = [
        {"op": "test", "path": "/nodes/0/id", "value": "start"},
        {"op": "remove", "path": "/nodes/9"},
    ]
    refused = assert_problem(_patch(client, owner, ops, 1), 422)
    assert [(p["path"], p["code"]) for p in refused["errors"]] == [("/1", "patch.path_not_found")]
    failed = assert_problem(
        _patch(client, owner, [{"op": "test", "path": "/nodes/0/id", "value": "x"}], 1), 422
    )
    assert [(p["path"], p["code"]) for p in failed["errors"]] == [("/0", "patch.test_failed")]
    not_ops = assert_problem(_patch(client, owner, {"op": "add"}, 1), 422)
    assert not_ops["errors"][0]["code"] == "patch.invalid_op"
    unknown = assert_problem(_patch(client, owner, [{"op": "frob", "path": ""}], 1), 422)
    assert unknown["errors"][0]["path"] == "/0"


def test_a_patch_whose_result_is_unsound_is_refused_with_paths_into_the_definition(
    client: TestClient, owner: Member
) -> None:
    _create(client, owner)
    ops = [{"op": "replace", "path": "/edges/0/to", "value": "nowhere"}]
    refused = assert_problem(_patch(client, owner, ops, 1), 422)
    assert refused["errors"][0]["path"] == "/edges/0/to"
    assert client.get(URL, headers=owner.headers).headers["etag"] == '"1"'


def test_a_stale_patch_is_merged_or_refused_like_a_put(client: TestClient, owner: Member) -> None:
    _create(client, owner)
    theirs = _patch(
        client,
        owner,
        [{"op": "replace", "path": "/nodes/1/config/expression", "value": "{id: id}"}],
        1,
    )
    assert theirs.headers["etag"] == '"2"'
    # Based on version 1, touching another field: merged.
    mine = _patch(client, owner, _url_op("https://b.example"), 1)
    assert mine.status_code == 200, mine.text
    assert mine.json()["merged"] is True
    merged = mine.json()["definition"]
    assert merged["nodes"][1]["config"]["expression"] == "{id: id}"
    assert merged["nodes"][2]["config"]["url"] == "https://b.example"
    # Based on version 1 again, the same field changed differently: 409.
    conflict = assert_problem(_patch(client, owner, _url_op("https://c.example"), 1), 409)
    assert conflict["conflicts"]
    assert conflict["head_version"] == 3


def test_a_viewer_may_not_patch(client: TestClient, owner: Member, db: Database) -> None:
    _create(client, owner)
    viewer = make_user(db, "vic@example.com")
    add_member(db, "alpha", viewer, Role.VIEWER)
    assert_problem(_patch(client, viewer, _url_op("https://b.example"), 1), 403)


@pytest.fixture
def sound_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep every prepared definition (the threshold is for large ones)."""
    monkeypatch.setattr(SOUND, "MIN_BYTES", 0)
    SOUND.clear()
    yield
    SOUND.clear()


def test_a_patch_of_a_head_this_process_saved_starts_from_it_unchanged(
    client: TestClient, owner: Member, sound_cache: None
) -> None:
    _create(client, owner)
    first = _patch(client, owner, _url_op("https://b.example"), 1).json()
    held = SOUND.get(first["content_hash"])
    assert held == first["definition"]
    second = _patch(client, owner, _url_op("https://c.example"), 2)
    assert second.status_code == 200, second.text
    # Copy-on-write: the held base is as saved, the result is the patched one.
    assert SOUND.get(first["content_hash"]) == first["definition"]
    assert second.json()["definition"] == edited(linear(), "send", "url", "https://c.example")
    # A patch that fails on the shared base leaves it alone too.
    ops = [
        {"op": "replace", "path": "/nodes/2/config/url", "value": "https://d.example"},
        {"op": "remove", "path": "/nodes/9"},
    ]
    assert_problem(_patch(client, owner, ops, 3), 422)
    assert SOUND.get(second.json()["content_hash"]) == second.json()["definition"]
    # A secret reference in a field that is no credential field is still refused.
    misplaced = [
        {"op": "replace", "path": "/nodes/2/config/url", "value": "https://x/{{ secrets.API }}"}
    ]
    refused = assert_problem(_patch(client, owner, misplaced, 3), 422)
    assert refused["errors"][0]["path"].startswith("/nodes/2/config")


def test_prefer_return_minimal_leaves_the_definition_out_unless_merged(
    client: TestClient, owner: Member
) -> None:
    _create(client, owner)
    minimal = {**owner.headers, "Prefer": "return=minimal"}
    headers = {**minimal, "Content-Type": PATCH_TYPE, "If-Match": '"1"'}
    ops = orjson.dumps(_url_op("https://b.example"))
    saved = client.patch(f"{URL}/definition", content=ops, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.headers["etag"] == '"2"'
    assert saved.headers["preference-applied"] == "return=minimal"
    body = saved.json()
    assert "definition" not in body
    assert body["merged"] is False
    assert body["version"] == 2
    full = client.get(URL, headers=owner.headers).json()
    assert full["content_hash"] == body["content_hash"]
    assert full["definition"] == edited(linear(), "send", "url", "https://b.example")
    # A PUT as well.
    put = client.put(
        URL,
        json={"definition": edited(linear(), "send", "url", "https://c.example")},
        headers={**minimal, "If-Match": '"2"'},
    )
    assert put.headers["preference-applied"] == "return=minimal"
    assert "definition" not in put.json()
    assert put.json()["version"] == 3
    # Merged: the caller cannot know the result, so it comes back whole.
    stale = [{"op": "replace", "path": "/nodes/1/config/expression", "value": "{id: id}"}]
    merged = client.patch(f"{URL}/definition", content=orjson.dumps(stale), headers=headers)
    assert merged.json()["merged"] is True
    assert "preference-applied" not in merged.headers
    assert merged.json()["definition"]["nodes"][2]["config"]["url"] == "https://c.example"
    # Without the preference (or another one), the definition is there.
    other = client.patch(
        f"{URL}/definition",
        content=orjson.dumps(_url_op("https://d.example")),
        headers={**headers, "If-Match": '"4"', "Prefer": "return=representation"},
    )
    assert other.json()["definition"]["nodes"][2]["config"]["url"] == "https://d.example"


@pytest.mark.parametrize("size", ["small", "large"])
def test_a_patch_is_answered_in_the_order_of_every_write(
    client: TestClient, owner: Member, outsider: Member, db: Database, size: str
) -> None:
    """401, then the role (404, 403), then the body (415, 400), then If-Match
    (428): whether the patch is small (parsed in the save's transaction once
    the role is checked there) or large (read only after a role check)."""
    _create(client, owner)
    viewer = make_user(db, "vic@example.com")
    add_member(db, "alpha", viewer, Role.VIEWER)
    padding = "x" * (70 * 1024 if size == "large" else 10)
    malformed = b'[{"op": "test", "path": "", "value": "' + padding.encode() + b'"'

    def send(member: Member | None, content_type: str, base: str | None) -> Any:
        headers = {"Content-Type": content_type, **(member.headers if member else {})}
        if base is not None:
            headers["If-Match"] = base
        return client.patch(
            f"{URL}/definition", content=malformed, headers=headers, params={"message": "m" * 3000}
        )

    assert_problem(send(None, "application/json", None), 401)
    assert_problem(send(outsider, "application/json", None), 404)
    assert_problem(send(viewer, "application/json", None), 403)
    assert_problem(send(owner, "application/json", None), 415)
    assert_problem(send(owner, PATCH_TYPE, None), 400)
    well_formed = orjson.dumps([{"op": "test", "path": "/nodes/0/id", "value": "start"}])
    headers = {**owner.headers, "Content-Type": PATCH_TYPE}
    assert_problem(client.patch(f"{URL}/definition", content=well_formed, headers=headers), 428)
    too_long = client.patch(
        f"{URL}/definition",
        content=well_formed,
        headers={**headers, "If-Match": '"1"'},
        params={"message": "m" * 3000},
    )
    assert_problem(too_long, 422)
    assert client.get(URL, headers=owner.headers).headers["etag"] == '"1"'


def test_a_patch_by_the_ui_session_still_needs_its_csrf_header(
    client: TestClient, owner: Member
) -> None:
    _create(client, owner)
    login = client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert login.status_code == 200
    csrf = login.json()["csrf_token"]
    headers = {"Content-Type": PATCH_TYPE, "If-Match": '"1"'}
    body = orjson.dumps(_url_op("https://b.example"))
    refused = client.patch(f"{URL}/definition", content=body, headers=headers)
    assert_problem(refused, 403)
    saved = client.patch(
        f"{URL}/definition", content=body, headers={**headers, "X-CSRF-Token": csrf}
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["etag"] == '"2"'
