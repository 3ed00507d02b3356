"""Where the master key comes from: an environment value or a key file.

The only I/O of the vault's crypto: reading and writing ``<home>/master.key``.
Environment values are passed in by the caller (settings), not read here.

**Key file.** Created on first use with mode 0600; refused if group or others
can read it. JSON::

    {"format": "meshhook.keyfile", "version": 1,
     "active": "kek-1a2b3c4d", "keys": {"kek-1a2b3c4d": "<base64 of 32 bytes>"}}

Rotation: :func:`add_key` (new active key, old ones kept) → re-wrap every
project's data key (``envelope.rewrap``) → :func:`retire_keys`.

**Environment.** ``MESHHOOK_MASTER_KEY`` (base64 of 32 bytes, see
:func:`generate_master_key`) takes precedence over the key file. The operator
rotates it: set the new key as ``MESHHOOK_MASTER_KEY`` and the old one in
``MESHHOOK_PREVIOUS_MASTER_KEYS`` (comma-separated), restart, run the rotate
command, then remove ``MESHHOOK_PREVIOUS_MASTER_KEYS``.

Error messages name the variable or file, never the key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from meshhook.security.envelope import (
    KEY_BYTES,
    KeyConfigurationError,
    KeyEncryptionKey,
    Keyring,
)

MASTER_KEY_ENV = "MESHHOOK_MASTER_KEY"
PREVIOUS_MASTER_KEYS_ENV = "MESHHOOK_PREVIOUS_MASTER_KEYS"
KEY_FILE_NAME = "master.key"
KEY_FILE_FORMAT = "meshhook.keyfile"
KEY_FILE_VERSION = 1
_FILE_MODE = 0o600
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def generate_master_key() -> str:
    """A new random master key, base64-encoded, for ``MESHHOOK_MASTER_KEY``."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def key_file_path(home: Path) -> Path:
    return home / KEY_FILE_NAME


def load_keyring(
    home: Path, master_key_env: str | None, previous_keys_env: str | None = None
) -> Keyring:
    """The keyring to use: from ``MESHHOOK_MASTER_KEY`` if given, else the key file.

    ``master_key_env`` and ``previous_keys_env`` are the values of
    ``MESHHOOK_MASTER_KEY`` and ``MESHHOOK_PREVIOUS_MASTER_KEYS`` (``None`` when
    unset). Without an env key, ``<home>/master.key`` is read, or created with
    a new key (mode 0600) when absent.

    Env rotation is done by the operator: set the new key as
    ``MESHHOOK_MASTER_KEY``, the old one in ``MESHHOOK_PREVIOUS_MASTER_KEYS``,
    run the rotate command, then remove ``MESHHOOK_PREVIOUS_MASTER_KEYS``.
    """
    if master_key_env is not None:
        active = _key_from_base64(master_key_env, source=MASTER_KEY_ENV)
        others = _previous_keys(previous_keys_env)
        return Keyring(active=active, others=others)
    if previous_keys_env is not None and previous_keys_env.strip():
        raise KeyConfigurationError(
            f"{PREVIOUS_MASTER_KEYS_ENV} is set but {MASTER_KEY_ENV} is not; previous keys "
            f"are only used together with an active {MASTER_KEY_ENV}"
        )
    path = key_file_path(home)
    if not path.exists():
        _create_key_file(path)
    return _keyring_from_document(_read_key_file(path), path)


def add_key(home: Path) -> KeyEncryptionKey:
    """Generate a new key in the key file and make it active; old keys stay.

    Written atomically (temp file 0600, fsync, rename). Run one rotation at a
    time: two concurrent ``add_key`` calls could lose one of the new keys.
    """
    path = key_file_path(home)
    keyring = _keyring_from_document(_read_key_file(path), path)
    new_key = KeyEncryptionKey.generate()
    _write_key_file_atomically(
        path, Keyring(active=new_key, others=(keyring.active, *keyring.others))
    )
    return new_key


def retire_keys(home: Path, keep: str) -> tuple[str, ...]:
    """Drop every key but the active one, which must be ``keep``; the retired ids.

    Only call once every data key has been re-wrapped under the active key:
    data keys still wrapped under a retired key can never be opened again.
    ``keep`` guards against retiring the wrong keys after a concurrent rotation.
    """
    path = key_file_path(home)
    keyring = _keyring_from_document(_read_key_file(path), path)
    if keep != keyring.active.key_id:
        raise KeyConfigurationError(
            f"{path}: refusing to retire keys: the active key is "
            f"{keyring.active.key_id!r}, not {keep!r}"
        )
    retired = tuple(key.key_id for key in keyring.others)
    if retired:
        _write_key_file_atomically(path, keyring.only_active())
    return retired


def _key_from_base64(value: str, *, source: str) -> KeyEncryptionKey:
    text = value.strip()
    if not text:
        raise KeyConfigurationError(
            f"{source} is set but empty; unset it or set it to the base64 of "
            f"{KEY_BYTES} random bytes"
        )
    try:
        material = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigurationError(f"{source} is not valid base64") from None
    if len(material) != KEY_BYTES:
        raise KeyConfigurationError(
            f"{source} must be the base64 of exactly {KEY_BYTES} bytes, got {len(material)} bytes"
        )
    return KeyEncryptionKey.from_material(material)


def _previous_keys(value: str | None) -> tuple[KeyEncryptionKey, ...]:
    if value is None:
        return ()
    entries = [entry for entry in value.split(",") if entry.strip()]
    return tuple(
        _key_from_base64(entry, source=f"{PREVIOUS_MASTER_KEYS_ENV} (entry {number})")
        for number, entry in enumerate(entries, start=1)
    )


def _document(keyring: Keyring) -> dict[str, Any]:
    return {
        "format": KEY_FILE_FORMAT,
        "version": KEY_FILE_VERSION,
        "active": keyring.active.key_id,
        "keys": {
            key.key_id: base64.b64encode(key.material).decode("ascii")
            for key in (keyring.active, *keyring.others)
        },
    }


def _serialise(keyring: Keyring) -> bytes:
    return (json.dumps(_document(keyring), indent=2) + "\n").encode("utf-8")


def _create_key_file(path: Path) -> None:
    content = _serialise(Keyring(active=KeyEncryptionKey.generate()))
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, _CREATE_FLAGS, _FILE_MODE)
    except FileExistsError:
        return  # another process created it first; load theirs
    except OSError as exc:
        raise KeyConfigurationError(f"cannot create key file {path}: {exc.strerror}") from None
    _write_and_sync(fd, content)
    _fsync_directory(path.parent)


def _write_and_sync(fd: int, content: bytes) -> None:
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _write_key_file_atomically(path: Path, keyring: Keyring) -> None:
    content = _serialise(keyring)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, _CREATE_FLAGS, _FILE_MODE)
    try:
        _write_and_sync(fd, content)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the new directory entry durable; not possible on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _read_key_file(path: Path) -> Any:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise KeyConfigurationError(
            f"no key file at {path}; it is created when MeshHook first starts "
            f"without {MASTER_KEY_ENV}"
        ) from None
    except OSError as exc:
        raise KeyConfigurationError(f"cannot open key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        # Checked on the open descriptor so the file cannot be swapped in between.
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyConfigurationError(f"key file {path} is not a regular file")
        if os.name == "posix" and info.st_mode & 0o077:
            raise KeyConfigurationError(
                f"key file {path} is readable by group or others (mode "
                f"{stat.S_IMODE(info.st_mode):o}); run: chmod 600 {path}"
            )
        raw = handle.read()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyConfigurationError(f"key file {path} is not valid JSON") from None


def _keyring_from_document(document: Any, path: Path) -> Keyring:
    if not isinstance(document, dict) or document.get("format") != KEY_FILE_FORMAT:
        raise KeyConfigurationError(f"key file {path} is not a {KEY_FILE_FORMAT} file")
    if document.get("version") != KEY_FILE_VERSION:
        raise KeyConfigurationError(
            f"key file {path} has unsupported version {document.get('version')!r} "
            f"(expected {KEY_FILE_VERSION})"
        )
    active_id = document.get("active")
    entries = document.get("keys")
    if not isinstance(active_id, str) or not isinstance(entries, dict) or not entries:
        raise KeyConfigurationError(
            f"key file {path} must have an 'active' key id and a non-empty 'keys' object"
        )
    keys: dict[str, KeyEncryptionKey] = {}
    for key_id, encoded in entries.items():
        source = f"key {key_id!r} in key file {path}"
        if not isinstance(encoded, str):
            raise KeyConfigurationError(f"{source} must be a base64 string")
        key = _key_from_base64(encoded, source=source)
        if key.key_id != key_id:
            raise KeyConfigurationError(
                f"{source} does not match its key material (its id is {key.key_id!r}); "
                "the file was edited or corrupted"
            )
        keys[key_id] = key
    if active_id not in keys:
        raise KeyConfigurationError(
            f"key file {path} names active key {active_id!r}, which is not in 'keys'"
        )
    active = keys.pop(active_id)
    return Keyring(active=active, others=tuple(keys.values()))
