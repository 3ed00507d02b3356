"""Where the key-encryption keys come from, and rotating them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from meshhook.security import keys
from meshhook.security.envelope import KeyConfigurationError, Keyring
from meshhook.services.secrets import key_ids_in_use, rotate_data_keys
from meshhook.settings import Settings
from meshhook.store.db import Database


class KeyProvider:
    """The current keyring, re-read when another process may have rotated it.

    A server keeps serving during ``meshhook keys rotate``: when it meets a
    data key wrapped by a key it does not know yet, it reloads the keyring.
    """

    def __init__(self, load: Callable[[], Keyring]) -> None:
        self._load = load
        self.keyring = load()

    def refresh(self) -> Keyring:
        self.keyring = self._load()
        return self.keyring


def provider_for(settings: Settings) -> KeyProvider:
    """Keys from ``MESHHOOK_MASTER_KEY`` or the key file; a bad key fails here, at start."""

    def load() -> Keyring:
        return keys.load_keyring(
            settings.home,
            settings.secret_value("master_key"),
            settings.secret_value("previous_master_keys"),
        )

    return KeyProvider(load)


@dataclass(frozen=True, slots=True)
class RotationResult:
    active_key_id: str
    projects: int
    rewrapped: int
    retired: tuple[str, ...]


def rotate(db: Database, settings: Settings) -> RotationResult:
    """Re-wrap every data key under a new key-encryption key.

    With a key file: a new key is added and made active, data keys are
    re-wrapped, then the old keys are retired. With ``MESHHOOK_MASTER_KEY``:
    the operator has already set the new key there and the old one in
    ``MESHHOOK_PREVIOUS_MASTER_KEYS``; this re-wraps, and the previous keys may
    be removed afterwards.
    """
    uses_file = settings.secret_value("master_key") is None
    if uses_file:
        provider_for(settings)  # creates the key file on a first run
        keys.add_key(settings.home)
    keyring = provider_for(settings).keyring
    report = rotate_data_keys(db, keyring)
    leftover = key_ids_in_use(db) - {keyring.active.key_id}
    if leftover:
        raise RuntimeError(f"data keys still wrapped by {sorted(leftover)}; run rotate again")
    retired = keys.retire_keys(settings.home, keep=keyring.active.key_id) if uses_file else ()
    return RotationResult(
        active_key_id=keyring.active.key_id,
        projects=report.projects,
        rewrapped=report.rewrapped,
        retired=retired,
    )


def check_keys_match(db: Database, provider: KeyProvider) -> None:
    """Refuse to start when stored data keys are wrapped by keys we do not have.

    A wrong or missing MESHHOOK_MASTER_KEY (or key file) is then a clear error
    at start-up instead of failed decryptions later.
    """
    missing = key_ids_in_use(db) - set(provider.keyring.key_ids)
    if missing:
        raise KeyConfigurationError(
            f"secrets in this database are protected by key(s) {', '.join(sorted(missing))},"
            " which this server does not have; set MESHHOOK_MASTER_KEY (and"
            " MESHHOOK_PREVIOUS_MASTER_KEYS) or restore $MESHHOOK_HOME/master.key"
        )
