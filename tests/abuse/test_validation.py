"""Validation abuse (hardening issue #13, items 1-4, 7, 8, 11, 17 and JSON depth):
each payload from the review sent to a real server, answered within a budget
far below what the unbounded behaviour took, with a bounded response and never
a 500 or a logged traceback."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import orjson

from tests.abuse.conftest import AbuseServer, budget

MAX_RESPONSE = 200_000


def definition(node_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual"},
            {"id": "n", "type": node_type, "config": config},
        ],
        "edges": [{"from": "start", "to": "n"}],
    }


def validate(server: AbuseServer, project: str, payload: Any) -> httpx.Response:
    return server.api("POST", f"/projects/{project}/validate", json={"definition": payload})


def create(server: AbuseServer, project: str, payload: Any, **fields: Any) -> httpx.Response:
    body = {"name": fields.pop("name", "abuse"), "definition": payload, **fields}
    return server.api("POST", f"/projects/{project}/workflows", json=body)


def codes(response: httpx.Response, key: str = "errors") -> set[str]:
    return {problem["code"] for problem in response.json()[key]}


# -- item 1: quadratic uniqueItems --------------------------------------------------


def test_unsortable_webhook_methods_are_refused_quickly(server: AbuseServer, project: str) -> None:
    methods = [{"a": i} for i in range(4_000)]  # 51 KB; took 26 s
    with budget(5):
        response = validate(server, project, definition("webhook", {"methods": methods}))
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert len(response.content) < MAX_RESPONSE
    assert "/nodes/1/config/methods" in {p["path"] for p in response.json()["errors"]}


def test_parallel_unique_items_attacks_do_not_stall_other_requests(
    server: AbuseServer, project: str
) -> None:
    payload = definition("webhook", {"methods": [{"a": i} for i in range(1_400)]})  # 18 KB
    statuses: list[int] = []

    def attack() -> None:
        statuses.append(validate(server, project, payload).status_code)

    threads = [threading.Thread(target=attack) for _ in range(12)]
    for thread in threads:
        thread.start()
    with budget(5):
        me = server.api("GET", "/me")
    for thread in threads:
        thread.join(60)
    assert me.status_code == 200
    assert statuses == [200] * 12


def test_unsortable_retry_statuses_are_refused_quickly(server: AbuseServer, project: str) -> None:
    config = {"url": "https://example.com", "retry": {"retry_on": [{"a": i} for i in range(4_000)]}}
    with budget(5):
        response = create(server, project, definition("http_call", config))
    assert response.status_code == 201  # a draft with problems, as any incomplete config
    problems = response.json()["problems"]
    assert len(orjson.dumps(problems)) < 10_000  # the response echoes the definition too
    assert "config.schema" in {p["code"] for p in problems}


def bundle(workflows: Any, secrets: Any = ()) -> bytes:
    return orjson.dumps(
        {
            "format": "meshhook.workflow-bundle",
            "formatVersion": 1,
            "exportedAt": "2026-11-22T03:40:00Z",
            "dependencies": {"nodeTypes": [], "secrets": list(secrets)},
            "workflows": workflows,
        }
    )


def import_bundle(server: AbuseServer, project: str, data: bytes) -> httpx.Response:
    return server.api(
        "POST",
        f"/projects/{project}/import",
        content=data,
        headers={"Content-Type": "application/json"},
    )


def test_unsortable_bundle_secrets_are_refused_quickly(server: AbuseServer, project: str) -> None:
    with budget(5):
        response = import_bundle(server, project, bundle([], [{"a": i} for i in range(4_000)]))
    assert response.status_code == 422
    assert len(response.content) < MAX_RESPONSE


# -- item 2: bundles with millions of schema errors ---------------------------------


def test_a_bundle_of_empty_workflows_is_refused_at_once(server: AbuseServer, project: str) -> None:
    data = bundle([{}] * 1_700_000)  # 5.2 MB; took 341 s and 3.8 GB
    assert len(data) > 5_000_000
    with budget(10):
        response = import_bundle(server, project, data)
    assert response.status_code == 422
    assert len(response.content) < MAX_RESPONSE
    assert [p["path"] for p in response.json()["errors"]] == ["/workflows"]


def test_many_broken_workflows_below_the_cap_stop_at_the_error_cap(
    server: AbuseServer, project: str
) -> None:
    with budget(10):
        response = import_bundle(server, project, bundle([{}] * 10_000))
    assert response.status_code == 422
    body = response.json()
    assert len(body["errors"]) == 100
    assert "at least 10000 problems" in body["detail"]
    assert len(response.content) < MAX_RESPONSE


# -- items 3, 4, 7: JMESPath length, caches, nesting --------------------------------


def test_a_huge_jmespath_literal_is_refused_before_lexing(
    server: AbuseServer, project: str
) -> None:
    expression = '`"' + "a" * 3_000_000 + '"`'  # 147 s of CPU
    with budget(5):
        response = validate(server, project, definition("transform", {"expression": expression}))
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert [p["path"] for p in errors] == ["/nodes/1/config/expression"]
    assert "4096" in errors[0]["message"]
    assert len(response.content) < MAX_RESPONSE


def test_huge_identifiers_do_not_grow_memory(server: AbuseServer, project: str) -> None:
    validate(server, project, definition("transform", {"expression": "warm.up"}))
    before = server.rss_bytes()
    with budget(90):
        for i in range(20):
            identifier = chr(ord("a") + i) * 4_000_000
            response = validate(
                server, project, definition("transform", {"expression": identifier})
            )
            assert response.status_code == 200
            assert len(response.content) < MAX_RESPONSE
    growth = server.rss_bytes() - before
    assert growth < 150 * 1024 * 1024, f"RSS grew by {growth / 2**20:.0f} MiB"


def test_deep_parentheses_are_a_problem_with_a_pointer_not_a_500(
    server: AbuseServer, project: str
) -> None:
    log_before = len(server.running.output())
    expression = "(" * 600 + "a" + ")" * 600
    with budget(5):
        checked = validate(server, project, definition("branch", {"condition": expression}))
        saved = create(server, project, definition("branch", {"condition": expression}))
    assert checked.status_code == 200
    assert ("/nodes/1/config/condition", "config.jmespath") in {
        (p["path"], p["code"]) for p in checked.json()["errors"]
    }
    assert saved.status_code == 201
    assert "config.jmespath" in {p["code"] for p in saved.json()["problems"]}
    projections = "a" + "[*]" * 1_300  # no brackets nest, but the parser recurses
    response = validate(server, project, definition("transform", {"expression": projections}))
    assert response.status_code == 200
    assert "config.jmespath" in codes(response)
    assert "Traceback" not in server.running.output()[log_before:]


# -- item 8: problems capped --------------------------------------------------------


def test_a_million_item_errors_make_a_small_answer(server: AbuseServer, project: str) -> None:
    payload = definition("webhook", {"methods": [7] * 350_000})  # 700 KB; a 108 MB answer
    with budget(10):
        response = validate(server, project, payload)
    assert response.status_code == 200
    assert len(response.content) < MAX_RESPONSE


def test_stored_problems_are_capped_and_left_out_of_the_history(
    server: AbuseServer, project: str
) -> None:
    # `a.7`: an identifier must follow the dot; and nothing is connected.
    nodes = [{"id": "start", "type": "manual"}] + [
        {"id": f"n{i}", "type": "transform", "config": {"expression": f"a.{i}"}}
        for i in range(3_000)
    ]
    payload = {"nodes": nodes, "edges": []}  # 90 KB; stored ~9.5 MB of problems per version
    with budget(20):
        created = create(server, project, payload)
    assert created.status_code == 201
    body = created.json()
    assert len(body["problems"]) == 201
    assert body["problems"][-1]["code"] == "problems.truncated"
    assert body["problems"][-1]["message"].startswith("5800 more problem(s) not listed")
    assert len(orjson.dumps(body["problems"])) < 100_000  # was ~9.5 MB
    url = f"/projects/{project}/workflows/{body['id']}"
    history = server.api("GET", f"{url}/versions")
    assert history.status_code == 200
    assert len(history.content) < 5_000
    assert "problems" not in history.json()["items"][0]
    version = server.api("GET", f"{url}/versions/1")
    assert len(version.json()["problems"]) == 201


# -- items 11, 17: keys and names ---------------------------------------------------


def test_keys_and_names_with_a_trailing_newline_or_controls_are_refused(
    server: AbuseServer, project: str
) -> None:
    assert server.api("POST", "/projects", json={"key": "pz\n", "name": "P"}).status_code == 422
    trick = server.api("POST", "/projects", json={"key": "pz-bidi", "name": "Pay\u202eroll"})
    assert trick.status_code == 422
    assert create(server, project, definition("transform", {}), key="wf\n").status_code == 422
    assert create(server, project, definition("transform", {}), name="a\nb").status_code == 422
    secret = server.api("PUT", f"/projects/{project}/secrets/TOKEN%0A", json={"value": "x"})
    assert secret.status_code == 422


def test_uuid_shaped_keys_are_refused(server: AbuseServer, project: str) -> None:
    made = create(server, project, definition("transform", {}), key="victim")
    assert made.status_code == 201
    victim_id = made.json()["id"]
    for key in (victim_id, victim_id.replace("-", ""), "0" * 32):
        response = create(server, project, definition("transform", {}), key=key)
        assert response.status_code == 422, key
        assert server.api("POST", "/projects", json={"key": key, "name": "P"}).status_code == 422


# -- JSON nesting -------------------------------------------------------------------


def nested(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


def send(server: AbuseServer, method: str, path: str, text: str) -> httpx.Response:
    # Written by hand: Python's json (and orjson) refuse to encode this depth.
    return server.api(method, path, content=text, headers={"Content-Type": "application/json"})


def test_deeply_nested_config_is_a_422_with_a_pointer(server: AbuseServer, project: str) -> None:
    shallow = definition("http_call", {"url": "https://example.com", "body": "DEEP"})
    payload = orjson.dumps(shallow).decode().replace('"DEEP"', nested(900))
    version = {"number": 1, "state": "draft", "message": "", "tag": None, "note": None}
    workflow = {
        "key": "deep",
        "name": "Deep",
        "description": "",
        "tags": [],
        "isTemplate": False,
        "publishedVersion": None,
        "aliases": {},
        "versions": [{**version, "definition": "DEFINITION"}],
    }
    document = bundle([workflow]).decode().replace('"DEFINITION"', payload)
    with budget(5):
        checked = send(
            server, "POST", f"/projects/{project}/validate", f'{{"definition": {payload}}}'
        )
        saved = send(
            server,
            "POST",
            f"/projects/{project}/workflows",
            f'{{"name": "deep", "definition": {payload}}}',
        )
        imported = send(server, "POST", f"/projects/{project}/import", document)
    assert checked.status_code == 200, checked.text
    assert checked.json()["errors"][0]["code"] == "limit.depth"
    assert checked.json()["errors"][0]["path"].startswith("/nodes/1/config/body/0/0")
    assert saved.status_code == 422, saved.text
    assert saved.json()["errors"][0]["path"].startswith("/definition/nodes/1/config/body")
    assert imported.status_code == 422, imported.text
    assert imported.json()["errors"][0]["code"] == "limit.depth"


def test_json_nested_beyond_the_parser_limit_is_a_400(server: AbuseServer, project: str) -> None:
    text = '{"definition": ' + "[" * 5_000 + "]" * 5_000 + "}"
    started = time.perf_counter()
    response = server.api(
        "POST",
        f"/projects/{project}/validate",
        content=text,
        headers={"Content-Type": "application/json"},
    )
    assert time.perf_counter() - started < 5
    assert response.status_code in (400, 422)
    assert json.loads(response.content)["status"] == response.status_code
