"""Alerts against real ``meshhook serve`` processes: an alert queued by a
failed run, whose first delivery attempt the receiver refused, survives
kill -9 of the server and is delivered by the next server's workers, with the
same delivery id and a valid signature on every attempt."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from meshhook.security.webhook_auth import verify_signature
from tests.e2e.server import running_server
from tests.e2e.test_webhooks_e2e import api_client
from tests.integration.test_alerts import Receiver, flaky

KEY = "e2e-alert-signing-key"
PRIVATE = {"MESHHOOK_HTTP_ALLOW_PRIVATE": "true"}


def wait_for(what: str, condition: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {seconds} s"
        time.sleep(0.1)


def test_a_queued_alert_survives_kill_9_and_is_delivered_after_the_restart(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    receiver = Receiver()
    receiver.thread.start()
    receiver.statuses = [500] * 50  # refuses until the first server is gone
    try:
        with running_server(home, extra_env=PRIVATE) as first, api_client(first.url, home) as api:
            assert api.put("/secrets/ALERT_KEY", json={"value": KEY}).status_code == 201
            created = api.post(
                "/alerts/destinations",
                json={
                    "name": "ops",
                    "kind": "webhook",
                    "url": receiver.url,
                    "signing_secret": "{{ secrets.ALERT_KEY }}",
                },
            )
            assert created.status_code == 201, created.text
            made = api.post("/workflows", json={"name": "Flaky", "definition": flaky()})
            key = made.json()["key"]
            assert api.post(f"/workflows/{key}/versions/publish", json={}).status_code == 200
            rule = api.post(
                "/alerts/rules",
                json={"name": "fails", "kind": "run.failed", "destinations": ["ops"]},
            )
            assert rule.status_code == 201, rule.text
            started = api.post(f"/workflows/{key}/runs", json={"input": {"n": 1}})
            assert started.status_code == 202, started.text
            wait_for("the first attempt", lambda: receiver.requests, 30)
            os.kill(first.pid, signal.SIGKILL)
        receiver.statuses = []  # the receiver is back
        refused = len(receiver.requests)
        with running_server(home, extra_env=PRIVATE) as second, api_client(second.url, home) as api:

            def delivered() -> bool:
                items = api.get("/alerts/deliveries").json()["items"]
                return bool(items) and items[0]["status"] == "delivered"

            wait_for("the retry after the restart", delivered, 60)
            [delivery] = api.get("/alerts/deliveries").json()["items"]
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    codes = [attempt["status_code"] for attempt in delivery["attempts"]]
    # SIGKILL may land between an attempt reaching the receiver and its record
    # being written: that one attempt is then not in the log (at least once).
    assert codes[-1] == 200
    assert codes[:-1] == [500] * (len(codes) - 1)
    assert refused - 1 <= len(codes) - 1 <= refused, (codes, refused)
    assert len(receiver.requests) == refused + 1
    ids = {headers["x-meshhook-delivery"] for headers, _ in receiver.requests}
    assert ids == {delivery["id"]}
    for headers, body in receiver.requests:
        verify_signature(headers["x-meshhook-signature"], KEY, body, time.time(), 300)
    assert receiver.bodies()[-1]["type"] == "alert.fired"
