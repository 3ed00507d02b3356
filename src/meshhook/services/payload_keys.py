"""The project data keys that seal run payloads at rest, found for the store
(``store/run_payloads.py``) inside the transaction that needs them.

A project has one data key, wrapped by the key-encryption key and stored
beside its secrets (the vault's: the same key encrypts secret values and run
payloads). It is made on the project's first secret or first run. Unwrapped
keys are cached per process (``security/data_keys.py``), so sealing a
payload costs one AES-GCM operation, not a database read and an unwrap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from meshhook.security import envelope
from meshhook.security.data_keys import KeySlot, KeySource
from meshhook.security.envelope import DataKey, DecryptionFailed, WrappedKey
from meshhook.store.secrets import SecretStore, StoredKey


def unwrap(keys: KeySource, stored: StoredKey) -> bytes:
    """A stored data key, unwrapped (the keyring re-read first when another
    process rotated it to a key this one does not know yet)."""
    keyring = keys.keyring
    if stored.key_id not in keyring.key_ids:
        keyring = keys.refresh()
    wrapped = WrappedKey(key_id=stored.key_id, blob=stored.wrapped_key)
    return envelope.unwrap_data_key(keyring, wrapped, project_id=str(stored.project_id))


def project_data_key(
    store: SecretStore, keys: KeySource, *, create: bool, lock: bool = False
) -> bytes | None:
    """The project's data key, unwrapped; with ``create``, made and stored on
    first use (a concurrent first use stores one of the two, and both use it)."""
    stored = store.data_key(for_update=lock)
    if stored is None:
        if not create:
            return None
        project_id = str(store.project_id)
        # Re-read first: never wrap a new data key under a key a rotation retired.
        fresh = envelope.new_data_key()
        wrapped = envelope.wrap_data_key(keys.refresh(), fresh, project_id=project_id)
        store.insert_data_key(wrapped.key_id, wrapped.blob, datetime.now(UTC), if_absent=True)
        stored = store.data_key(for_update=lock)
        assert stored is not None, "the data key was just stored"
    return unwrap(keys, stored)


class ProjectDataKeys:
    """The data keys of one project inside one transaction: what
    ``PayloadCipher`` seals and opens with (``store.run_payloads.DataKeys``)."""

    __slots__ = ("key", "project_id", "slot", "store")

    def __init__(self, slot: KeySlot, store: SecretStore, project_id: UUID) -> None:
        self.slot = slot
        self.store = store
        self.project_id = project_id
        self.key: DataKey | None = None
        """The key this transaction found (looked up once per transaction)."""

    def current(self) -> DataKey:
        if self.key is not None:
            return self.key
        key = self.slot.cache.get(self.project_id) or self._load(create=True)
        assert key is not None
        self.key = key
        return key

    def find(self, key_id: str) -> DataKey:
        cached = self.key or self.slot.cache.get(self.project_id)
        if cached is not None and cached.key_id == key_id:
            self.key = cached
            return cached
        key = self._load(create=False)  # not cached, or another key: ask the database
        if key is None or key.key_id != key_id:
            raise DecryptionFailed(
                f"run payloads of project {self.project_id} were sealed with data key"
                f" {key_id!r}, which the project does not have",
                extra={"key_id": key_id},
            )
        self.key = key
        return key

    def _load(self, *, create: bool) -> DataKey | None:
        source = self.slot.source
        assert source is not None, "a scope gets data keys only when keys are attached"
        material = project_data_key(self.store, source, create=create)
        if material is None:
            return None
        key = DataKey.of(material)
        self.slot.cache.put(self.project_id, key)
        return key


def data_keys_for(
    slot: KeySlot | None, store: SecretStore, project_id: UUID
) -> ProjectDataKeys | None:
    """The project's data keys, or ``None`` (payloads stay in clear) when no
    keys are attached to the database (see ``store.db.Database.keys``)."""
    if slot is None or slot.source is None:
        return None
    return ProjectDataKeys(slot, store, project_id)
