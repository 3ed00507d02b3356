"""Run payloads sealed at rest, without a database: the envelope's payload
layer, the cipher's stored shapes, the data key cache, and hiding secret
values a step used."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from meshhook.domain.redaction import Redactor, hide_secrets, secret_values
from meshhook.domain.runs.events import EventType, RunEvent
from meshhook.domain.runs.payloads import EVENT_METADATA, join, split
from meshhook.domain.runs.redacted import redact_event
from meshhook.security import envelope
from meshhook.security.data_keys import DataKeyCache
from meshhook.security.envelope import DataKey, DecryptionFailed
from meshhook.store.run_payloads import PayloadCipher

PROJECT = str(uuid.uuid4())
RUN = uuid.uuid4()
OTHER_RUN = uuid.uuid4()


class Keys:
    """One project's data keys in memory (``store.run_payloads.DataKeys``)."""

    def __init__(self, *keys: DataKey) -> None:
        self.keys = list(keys)

    def current(self) -> DataKey:
        return self.keys[-1]

    def find(self, key_id: str) -> DataKey:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        raise DecryptionFailed(f"no data key {key_id}")


@pytest.fixture
def key() -> DataKey:
    return DataKey.of(envelope.new_data_key())


def test_a_payload_opens_only_at_its_place_under_its_key(key: DataKey) -> None:
    place = (str(RUN), "event", "3", "call")
    blob = envelope.seal_payload(key, b'{"card":"4111"}', project_id=PROJECT, place=place)

    assert b"4111" not in blob
    assert envelope.open_payload(key, blob, project_id=PROJECT, place=place) == b'{"card":"4111"}'
    for project, moved in [
        (PROJECT, (str(OTHER_RUN), "event", "3", "call")),
        (PROJECT, (str(RUN), "event", "4", "call")),
        (PROJECT, (str(RUN), "event", "3", "other")),
        (str(uuid.uuid4()), place),
    ]:
        with pytest.raises(DecryptionFailed):
            envelope.open_payload(key, blob, project_id=project, place=moved)
    other = DataKey.of(envelope.new_data_key())
    with pytest.raises(DecryptionFailed):
        envelope.open_payload(other, blob, project_id=PROJECT, place=place)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionFailed):
        envelope.open_payload(key, tampered, project_id=PROJECT, place=place)


def test_a_data_key_id_names_the_key_and_not_its_bytes(key: DataKey) -> None:
    assert key.key_id.startswith("dk-")
    assert DataKey.of(key.material).key_id == key.key_id
    assert DataKey.of(envelope.new_data_key()).key_id != key.key_id
    assert key.material.hex() not in repr(key)


def test_event_data_keeps_metadata_and_error_code_in_clear(key: DataKey) -> None:
    cipher = PayloadCipher(uuid.UUID(PROJECT), Keys(key))
    data = {
        "attempt": 2,
        "due_at": "2026-01-01T00:00:00+00:00",
        "error": {"code": "http.status", "message": "ann@example.com was refused", "status": 503},
        "request": {"url": "https://api.example.com/?email=ann@example.com"},
    }

    stored = cipher.seal_event(data, RUN, 4, "call")

    assert stored["attempt"] == 2
    assert stored["error"] == {"code": "http.status"}
    assert "request" not in stored
    assert b"ann@example.com" not in orjson.dumps(stored)
    assert cipher.open_event(stored, RUN, 4, "call") == data
    with pytest.raises(DecryptionFailed):
        cipher.open_event(stored, OTHER_RUN, 4, "call")


def test_a_run_view_round_trips_and_its_steps_are_one_ciphertext(key: DataKey) -> None:
    cipher = PayloadCipher(uuid.UUID(PROJECT), Keys(key))
    steps = [
        {"node_id": "a", "status": "succeeded", "attempts": 1, "output": {"x": "secret-a"}},
        {"node_id": "b", "status": "failed", "attempts": 3, "output": None, "error": {"code": "c"}},
        {"node_id": "c", "status": "pending", "attempts": 0, "output": None, "error": None},
    ]

    sealed_steps = cipher.seal_steps(steps, RUN)
    sealed_input = cipher.seal_value({"x": "secret-in"}, RUN, "input")

    assert [step["status"] for step in sealed_steps["steps"]] == ["succeeded", "failed", "pending"]
    assert sealed_steps["steps"][1]["error"] == {"code": "c"}
    assert b"secret" not in orjson.dumps([sealed_steps, sealed_input])
    assert cipher.open_steps(sealed_steps, RUN) == steps
    assert cipher.open_value(sealed_input, RUN, "input") == {"x": "secret-in"}
    with pytest.raises(DecryptionFailed):
        cipher.open_value(sealed_input, RUN, "output")  # moved to another field


def test_values_stored_in_clear_read_as_they_are_and_a_rotated_key_still_opens(
    key: DataKey,
) -> None:
    newer = DataKey.of(envelope.new_data_key())
    old_cipher = PayloadCipher(uuid.UUID(PROJECT), Keys(key))
    sealed_before = old_cipher.seal_value([1, 2], RUN, "output")
    cipher = PayloadCipher(uuid.UUID(PROJECT), Keys(key, newer))
    clear: list[Any] = [{"node_id": "a", "status": "succeeded", "output": 1}]

    assert cipher.open_value({"n": 1}, RUN, "input") == {"n": 1}
    assert cipher.open_steps(clear, RUN) == clear
    assert cipher.open_event({"input": 5}, RUN, 1, None) == {"input": 5}
    assert cipher.open_value(sealed_before, RUN, "output") == [1, 2]
    assert cipher.seal_value(3, RUN, "output")["$sealed"].startswith(newer.key_id + ":")
    without_keys = PayloadCipher(uuid.UUID(PROJECT), None)
    assert without_keys.seal_value({"n": 1}, RUN, "input") == {"n": 1}
    with pytest.raises(DecryptionFailed, match="no key-encryption keys"):
        without_keys.open_value(sealed_before, RUN, "output")


def test_split_and_join_are_inverse() -> None:
    data = {"attempt": 1, "output": [1], "error": {"code": "x", "message": "m"}, "new": 2}
    clear, payload = split(data, EVENT_METADATA)
    assert clear == {"attempt": 1, "error": {"code": "x"}}
    assert join(clear, payload) == data


def test_the_data_key_cache_is_bounded_and_forgets_after_its_ttl(key: DataKey) -> None:
    now = [0.0]
    cache = DataKeyCache(size=2, ttl=60, clock=lambda: now[0])
    projects = [uuid.uuid4() for _ in range(3)]
    for project in projects:
        cache.put(project, key)
    assert cache.get(projects[0]) is None  # the least recently used went first
    assert cache.get(projects[2]) is key
    now[0] = 60.0
    assert cache.get(projects[2]) is None
    assert len(cache) == 1


def test_secret_values_are_hidden_wherever_they_appear() -> None:
    secrets = secret_values(["tok-123456", "tok-123456-long", "abc"])
    value = {"echo": "Bearer tok-123456-long", "list": ["x tok-123456 y"], "n": 1, "abc": "abc"}

    hidden = hide_secrets(value, secrets)

    assert hidden == {
        "echo": "Bearer [redacted:secret]",
        "list": ["x [redacted:secret] y"],
        "n": 1,
        "abc": "abc",  # shorter than 4 characters: not hidden
    }


def test_a_recorded_http_exchange_is_redacted_as_a_payload() -> None:
    event = RunEvent(
        4,
        EventType.STEP_SUCCEEDED,
        datetime.now(UTC),
        "call",
        {
            "attempt": 1,
            "output": {"status": 200},
            "request": {"url": "https://api.example.com/?email=ann@example.com"},
            "response": {"body": {"contact": "ann@example.com"}},
        },
    )

    shown = redact_event(event, Redactor.build()).data

    assert shown["attempt"] == 1
    assert "ann@example.com" not in orjson.dumps(shown).decode()
    assert shown["response"] == {"body": {"contact": "[redacted:email]"}}
