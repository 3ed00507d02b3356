"""Envelope encryption for the project secrets vault. Pure functions: no I/O.

Two layers, both AES-256-GCM with a fresh random 96-bit nonce per encryption:

* a **key encryption key** (KEK, the master key from ``keys.py``) wraps one
  random **data key** per project;
* the data key encrypts each secret value, and each run payload (a run's
  input, output and error, a step's output, an event's payload parts:
  :func:`seal_payload`).

Rotating the master key therefore only re-wraps the small data keys
(:func:`rewrap`); secret values are never re-encrypted.

Every ciphertext is ``version byte + nonce + ciphertext‖tag`` and is bound by
its associated data to where it belongs: a wrapped data key to its project and
KEK id, a value to its project and secret name, a run payload to its project,
run and place in the run (field, step or event sequence number). A blob copied to another row or
project, or altered in any byte, fails with :class:`DecryptionFailed`.

Random nonces are safe for secrets (one ciphertext per write). Run payloads
encrypt far more often, about five per step: a project would reach the ~2**32
messages per data key at which random 96-bit nonces start to risk a collision
after some 800 million steps, so NIST's bound is documented as the point to
give a project a new data key (docs/privacy.md).

Error messages name key ids, projects and versions, never key material or
plaintext.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from meshhook.domain.errors import MeshHookError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_VERSION = 1
_VERSION_PREFIX = bytes([FORMAT_VERSION])
_MIN_BLOB_BYTES = len(_VERSION_PREFIX) + NONCE_BYTES + TAG_BYTES

_KEY_ID_DOMAIN = b"meshhook/kek-id/v1|"
_DATA_KEY_DOMAIN = b"meshhook/data-key/v1"
_VALUE_DOMAIN = b"meshhook/secret-value/v1"
_PAYLOAD_DOMAIN = b"meshhook/run-payload/v1"
_DATA_KEY_ID_DOMAIN = b"meshhook/data-key-id/v1|"


class DecryptionFailed(MeshHookError):
    """A ciphertext could not be opened: wrong key, wrong place, or tampered."""

    status = 500
    title = "Decryption failed"
    slug = "decryption-failed"


class KeyConfigurationError(MeshHookError):
    """The master key configuration (env variable or key file) is unusable."""

    status = 500
    title = "Key configuration error"
    slug = "key-configuration-error"


def derive_key_id(material: bytes) -> str:
    """The stable public id of a key: ``kek-`` + 8 hex chars of a SHA-256.

    Domain-separated so the id is not a plain hash that could match other uses
    of the same bytes.
    """
    return "kek-" + hashlib.sha256(_KEY_ID_DOMAIN + material).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class KeyEncryptionKey:
    """A 32-byte master key and its id. ``repr`` never shows the material."""

    key_id: str
    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise KeyConfigurationError(
                f"a key encryption key must be {KEY_BYTES} bytes, got {len(self.material)}"
            )
        expected = derive_key_id(self.material)
        if self.key_id != expected:
            raise KeyConfigurationError(
                f"key id {self.key_id!r} does not match its key material (expected {expected!r})"
            )

    @classmethod
    def from_material(cls, material: bytes) -> KeyEncryptionKey:
        return cls(key_id=derive_key_id(material), material=material)

    @classmethod
    def generate(cls) -> KeyEncryptionKey:
        return cls.from_material(os.urandom(KEY_BYTES))


@dataclass(frozen=True, slots=True)
class Keyring:
    """The active KEK (wraps new data keys) plus older KEKs kept for unwrapping.

    Old keys stay here until every data key has been re-wrapped under the
    active one; only then may they be dropped.
    """

    active: KeyEncryptionKey
    others: tuple[KeyEncryptionKey, ...] = ()

    def __post_init__(self) -> None:
        seen: dict[str, KeyEncryptionKey] = {}
        unique: list[KeyEncryptionKey] = []
        for key in (self.active, *self.others):
            if key.key_id in seen:
                if seen[key.key_id].material != key.material:
                    raise KeyConfigurationError(f"two different keys share the id {key.key_id!r}")
                continue
            seen[key.key_id] = key
            if key is not self.active:
                unique.append(key)
        # The same key given twice (e.g. also listed as a previous key) is harmless.
        object.__setattr__(self, "others", tuple(unique))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return (self.active.key_id, *(key.key_id for key in self.others))

    def get(self, key_id: str) -> KeyEncryptionKey:
        """The key with this id; :class:`DecryptionFailed` naming the id if absent."""
        for key in (self.active, *self.others):
            if key.key_id == key_id:
                return key
        raise DecryptionFailed(
            f"no key encryption key with id {key_id!r} is configured "
            f"(configured: {', '.join(self.key_ids)}); restore it as a previous key "
            "until its data keys are re-wrapped",
            extra={"key_id": key_id},
        )

    def only_active(self) -> Keyring:
        """This keyring without the old keys (what remains after rotation)."""
        return Keyring(active=self.active)


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key encrypted under the KEK named by ``key_id``."""

    key_id: str
    blob: bytes


@dataclass(frozen=True, slots=True)
class DataKey:
    """An unwrapped project data key, its public id and its cipher object
    (made once, so a payload costs one AES-GCM operation). ``repr`` never
    shows the material."""

    key_id: str
    material: bytes = field(repr=False)
    aead: AESGCM = field(repr=False, compare=False)

    @classmethod
    def of(cls, material: bytes) -> DataKey:
        _check_data_key(material)
        return cls(data_key_id(material), material, AESGCM(material))


def data_key_id(material: bytes) -> str:
    """The public id of a data key, stored with each payload it encrypts:
    ``dk-`` + 8 hex chars of a domain-separated SHA-256 (which says nothing
    of the key). A payload names the key that opens it, so payloads written
    under an earlier data key of a project are told apart."""
    return "dk-" + hashlib.sha256(_DATA_KEY_ID_DOMAIN + material).hexdigest()[:8]


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def wrap_data_key(keyring: Keyring, data_key: bytes, *, project_id: str) -> WrappedKey:
    """Encrypt ``data_key`` under the active KEK, bound to ``project_id``."""
    _check_data_key(data_key)
    kek = keyring.active
    blob = _seal(kek.material, data_key, _data_key_aad(project_id, kek.key_id))
    return WrappedKey(key_id=kek.key_id, blob=blob)


def unwrap_data_key(keyring: Keyring, wrapped: WrappedKey, *, project_id: str) -> bytes:
    """The data key inside ``wrapped``; :class:`DecryptionFailed` if it is not
    this project's, its KEK is not in ``keyring``, or it was altered."""
    kek = keyring.get(wrapped.key_id)
    data_key = _open(
        kek.material,
        wrapped.blob,
        _data_key_aad(project_id, kek.key_id),
        what=f"data key of project {project_id!r} (key id {wrapped.key_id!r})",
    )
    if len(data_key) != KEY_BYTES:
        raise DecryptionFailed(f"data key of project {project_id!r} has the wrong length")
    return data_key


def rewrap(keyring: Keyring, wrapped: WrappedKey, *, project_id: str) -> WrappedKey:
    """``wrapped`` re-encrypted under the active KEK; unchanged if already so."""
    if wrapped.key_id == keyring.active.key_id:
        return wrapped
    data_key = unwrap_data_key(keyring, wrapped, project_id=project_id)
    return wrap_data_key(keyring, data_key, project_id=project_id)


def encrypt_value(data_key: bytes, plaintext: str, *, project_id: str, name: str) -> bytes:
    """Encrypt a secret value, bound to its project and secret name."""
    _check_data_key(data_key)
    return _seal(data_key, plaintext.encode("utf-8"), _value_aad(project_id, name))


def decrypt_value(data_key: bytes, blob: bytes, *, project_id: str, name: str) -> str:
    """The secret value in ``blob``; :class:`DecryptionFailed` if it belongs to
    another project or name, was encrypted under another key, or was altered."""
    _check_data_key(data_key)
    what = f"secret {name!r} of project {project_id!r}"
    raw = _open(data_key, blob, _value_aad(project_id, name), what=what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionFailed(f"{what} is not valid UTF-8") from None


def seal_payload(
    key: DataKey, plaintext: bytes, *, project_id: str, place: tuple[str, ...]
) -> bytes:
    """Encrypt a run payload, bound to its project and ``place`` (the run id
    and where in the run: a field, a step's node, an event's sequence number)."""
    return _seal(key.material, plaintext, _payload_aad(project_id, place), aead=key.aead)


def open_payload(key: DataKey, blob: bytes, *, project_id: str, place: tuple[str, ...]) -> bytes:
    """The run payload in ``blob``; :class:`DecryptionFailed` if it was moved
    to another project, run or place, or altered, or ``key`` is not its key."""

    def what() -> str:  # spelled out only when it fails: a run's load opens several
        return f"run payload {'/'.join(place)} of project {project_id!r}"

    return _open(key.material, blob, _payload_aad(project_id, place), what=what, aead=key.aead)


def _check_data_key(data_key: bytes) -> None:
    if len(data_key) != KEY_BYTES:
        raise ValueError(f"a data key must be {KEY_BYTES} bytes, got {len(data_key)}")


def _fields(*values: str) -> bytes:
    # Length-prefixed, so no choice of ids can make two different
    # (project, name) pairs encode to the same associated data.
    out = bytearray()
    for value in values:
        item = value.encode("utf-8")
        out += len(item).to_bytes(4, "big")
        out += item
    return bytes(out)


def _data_key_aad(project_id: str, key_id: str) -> bytes:
    return _DATA_KEY_DOMAIN + _VERSION_PREFIX + _fields(project_id, key_id)


def _value_aad(project_id: str, name: str) -> bytes:
    return _VALUE_DOMAIN + _VERSION_PREFIX + _fields(project_id, name)


def _payload_aad(project_id: str, place: tuple[str, ...]) -> bytes:
    # ``_fields(project_id, *place)``, its head (project and run) and its tail
    # (field, or event sequence number and node: the same few in every run) cached.
    return _payload_head(project_id, place[0]) + _payload_tail(place[1:])


@functools.lru_cache(maxsize=4096)
def _payload_head(project_id: str, run_id: str) -> bytes:
    return _PAYLOAD_DOMAIN + _VERSION_PREFIX + _fields(project_id, run_id)


@functools.lru_cache(maxsize=4096)
def _payload_tail(rest: tuple[str, ...]) -> bytes:
    return _fields(*rest)


def _seal(key: bytes, plaintext: bytes, aad: bytes, *, aead: AESGCM | None = None) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return _VERSION_PREFIX + nonce + (aead or AESGCM(key)).encrypt(nonce, plaintext, aad)


def _open(
    key: bytes,
    blob: bytes,
    aad: bytes,
    *,
    what: str | Callable[[], str],
    aead: AESGCM | None = None,
) -> bytes:
    try:
        return _open_named(key, blob, aad, aead)
    except _Refused as refused:
        name = what() if callable(what) else what
        raise DecryptionFailed(f"{name} could not be decrypted: {refused.reason}") from None


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _open_named(key: bytes, blob: bytes, aad: bytes, aead: AESGCM | None) -> bytes:
    blob = bytes(blob)
    if len(blob) < _MIN_BLOB_BYTES:
        raise _Refused("ciphertext is truncated")
    if blob[0] != FORMAT_VERSION:
        raise _Refused(f"unsupported format version {blob[0]}")
    nonce = blob[1 : 1 + NONCE_BYTES]
    try:
        return (aead or AESGCM(key)).decrypt(nonce, blob[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise _Refused("wrong key, wrong project or name, or the ciphertext was altered") from None
