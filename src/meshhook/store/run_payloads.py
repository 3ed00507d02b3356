"""Run payloads sealed at rest: ``RunStore`` seals what it writes and opens
what it reads through a :class:`PayloadCipher`, so nothing above the store
sees a ciphertext and nothing below it (the database, a dump, a backup) sees
a payload.

A sealed value is stored as ``{"$sealed": "<data key id>:<base64>"}``, beside
the metadata kept in clear (``domain/runs/payloads.py``); the ciphertext is
AES-256-GCM under the project's data key with associated data naming the
project, the run and the place in the run (``input``, ``output``, ``error``,
``steps``: every step's payload in one ciphertext, the steps' metadata in
clear beside it; ``event`` + sequence number + node id), so a value moved to
another run, field or event is refused. A value without the marker is read as it is: rows
written before payloads were sealed (migration-free), or by a process with
no keys attached (bare test databases).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Protocol
from uuid import UUID

import orjson

from meshhook.domain.runs.payloads import (
    EVENT_METADATA,
    SEALED,
    STEP_METADATA,
    join,
    sealed_part,
    split,
)
from meshhook.security import envelope
from meshhook.security.envelope import DataKey, DecryptionFailed

_ERROR_METADATA = frozenset({"code"})


class DataKeys(Protocol):
    """The data keys of one project (``services/payload_keys.py``)."""

    def current(self) -> DataKey:
        """The key new payloads are sealed with (made on the project's first use)."""

    def find(self, key_id: str) -> DataKey:
        """The key with this id; :class:`DecryptionFailed` when the project has none."""


class PayloadCipher:
    """Seals and opens the payloads of one project's runs."""

    __slots__ = ("keys", "project")

    def __init__(self, project_id: UUID, keys: DataKeys | None) -> None:
        self.project = str(project_id)
        self.keys = keys

    # -- whole values (a run's input and output) ----------------------------

    def seal_value(self, value: Any, run_id: UUID, name: str) -> Any:
        if value is None or self.keys is None:
            return value
        return {SEALED: self._seal(value, (str(run_id), name))}

    def open_value(self, stored: Any, run_id: UUID, name: str) -> Any:
        sealed = sealed_part(stored)
        return stored if sealed is None else self._open(sealed, (str(run_id), name))

    # -- mappings with metadata (errors, steps, event data) ------------------

    def seal_error(self, error: Mapping[str, Any] | None, run_id: UUID) -> Any:
        return self._seal_mapping(error, _ERROR_METADATA, (str(run_id), "error"))

    def open_error(self, stored: Any, run_id: UUID) -> Any:
        return self._open_mapping(stored, (str(run_id), "error"))

    def seal_steps(self, steps: list[dict[str, Any]], run_id: UUID) -> Any:
        """A run's steps as ``{"steps": [metadata...], "$sealed": ...}``: one
        ciphertext for every step's payload, so a commit of a long run seals
        once, not once per step."""
        if self.keys is None:
            return steps
        parts = [split(step, STEP_METADATA) for step in steps]
        payloads = [payload for _, payload in parts]
        if all(value is None for payload in payloads for value in payload.values()):
            return steps  # nothing to hide (no step has finished)
        return {
            "steps": [clear for clear, _ in parts],
            SEALED: self._seal(payloads, (str(run_id), "steps")),
        }

    def open_steps(self, stored: Any, run_id: UUID) -> list[dict[str, Any]]:
        sealed = sealed_part(stored)
        if sealed is None:
            steps: list[dict[str, Any]] = stored
            return steps
        payloads = self._open(sealed, (str(run_id), "steps"))
        return [
            join(clear, payload) for clear, payload in zip(stored["steps"], payloads, strict=True)
        ]

    def seal_event(
        self, data: Mapping[str, Any], run_id: UUID, seq: int, node_id: str | None
    ) -> dict[str, Any]:
        place = _event_place(run_id, seq, node_id)
        sealed: dict[str, Any] = self._seal_mapping(data, EVENT_METADATA, place)
        return sealed

    def open_event(
        self, stored: dict[str, Any], run_id: UUID, seq: int, node_id: str | None
    ) -> dict[str, Any]:
        opened: dict[str, Any] = self._open_mapping(stored, _event_place(run_id, seq, node_id))
        return opened

    # -- the one place that encrypts and decrypts ----------------------------

    def _seal_mapping(
        self, data: Mapping[str, Any] | None, metadata: frozenset[str], place: tuple[str, ...]
    ) -> Any:
        if data is None:
            return None
        if self.keys is None:
            return dict(data)
        clear, payload = split(data, metadata)
        if all(value is None for value in payload.values()):
            return dict(data)  # nothing to hide (a pending step, a bare event)
        clear[SEALED] = self._seal(payload, place)
        return clear

    def _open_mapping(self, stored: Any, place: tuple[str, ...]) -> Any:
        sealed = sealed_part(stored)
        if sealed is None:
            return stored
        return join(stored, self._open(sealed, place))

    def _seal(self, value: Any, place: tuple[str, ...]) -> str:
        assert self.keys is not None
        key = self.keys.current()
        blob = envelope.seal_payload(key, orjson.dumps(value), project_id=self.project, place=place)
        return f"{key.key_id}:{base64.b64encode(blob).decode('ascii')}"

    def _open(self, sealed: str, place: tuple[str, ...]) -> Any:
        what = f"run payload {'/'.join(place)}"
        key_id, _, text = sealed.partition(":")
        if self.keys is None:
            raise DecryptionFailed(
                f"{what} is encrypted and this process has no key-encryption keys attached"
            )
        try:
            blob = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionFailed(f"{what} is not a valid sealed value") from None
        key = self.keys.find(key_id)
        return orjson.loads(envelope.open_payload(key, blob, project_id=self.project, place=place))


def _event_place(run_id: UUID, seq: int, node_id: str | None) -> tuple[str, ...]:
    return (str(run_id), "event", str(seq), node_id or "")
