from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from meshhook.security import keys
from meshhook.security.envelope import (
    DecryptionFailed,
    KeyConfigurationError,
    KeyEncryptionKey,
    Keyring,
    new_data_key,
    rewrap,
    unwrap_data_key,
    wrap_data_key,
)

PROJECT = "proj-1"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _b64(material: bytes) -> str:
    return base64.b64encode(material).decode()


def _write_doc(home: Path, document: Any) -> Path:
    path = home / "master.key"
    path.write_text(json.dumps(document))
    path.chmod(0o600)
    return path


def _valid_doc(key: KeyEncryptionKey) -> dict[str, Any]:
    return {
        "format": "meshhook.keyfile",
        "version": 1,
        "active": key.key_id,
        "keys": {key.key_id: _b64(key.material)},
    }


# --- key file ---------------------------------------------------------------


def test_key_file_is_created_0600_on_first_use_and_loads_the_same_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = keys.load_keyring(home, None)
    path = home / "master.key"
    assert path.is_file()
    assert _mode(path) == 0o600
    document = json.loads(path.read_text())
    assert document["format"] == "meshhook.keyfile"
    assert document["version"] == 1
    assert document["active"] == first.active.key_id

    second = keys.load_keyring(home, None)
    assert second == first
    assert second.active.material == first.active.material


def test_key_file_readable_by_others_is_refused_with_chmod_hint(tmp_path: Path) -> None:
    keys.load_keyring(tmp_path, None)
    path = tmp_path / "master.key"
    path.chmod(0o644)
    with pytest.raises(KeyConfigurationError, match="chmod 600") as caught:
        keys.load_keyring(tmp_path, None)
    assert str(path) in str(caught.value)


def test_key_file_readable_by_group_is_refused(tmp_path: Path) -> None:
    keys.load_keyring(tmp_path, None)
    (tmp_path / "master.key").chmod(0o640)
    with pytest.raises(KeyConfigurationError, match="chmod 600"):
        keys.load_keyring(tmp_path, None)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "not valid JSON"),
        ("[]", "not a meshhook.keyfile file"),
        ('{"format": "other"}', "not a meshhook.keyfile file"),
        ('{"format": "meshhook.keyfile", "version": 2}', "unsupported version"),
        ('{"format": "meshhook.keyfile", "version": 1, "keys": {}}', "'active' key id"),
    ],
)
def test_malformed_key_file_is_refused_naming_the_file(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "master.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyConfigurationError, match=expected) as caught:
        keys.load_keyring(tmp_path, None)
    assert str(path) in str(caught.value)


def test_key_file_with_wrong_length_key_is_refused(tmp_path: Path) -> None:
    short = bytes(range(16))
    _write_doc(
        tmp_path,
        {
            "format": "meshhook.keyfile",
            "version": 1,
            "active": "kek-00000000",
            "keys": {"kek-00000000": _b64(short)},
        },
    )
    with pytest.raises(KeyConfigurationError, match="exactly 32 bytes, got 16") as caught:
        keys.load_keyring(tmp_path, None)
    assert "master.key" in str(caught.value)
    assert _b64(short) not in str(caught.value)


def test_key_file_with_bad_base64_is_refused(tmp_path: Path) -> None:
    document = _valid_doc(KeyEncryptionKey.generate())
    key_id = document["active"]
    document["keys"][key_id] = "!!not base64!!"
    _write_doc(tmp_path, document)
    with pytest.raises(KeyConfigurationError, match="not valid base64"):
        keys.load_keyring(tmp_path, None)


def test_key_file_with_unknown_active_id_is_refused(tmp_path: Path) -> None:
    document = _valid_doc(KeyEncryptionKey.generate())
    document["active"] = "kek-deadbeef"
    _write_doc(tmp_path, document)
    with pytest.raises(KeyConfigurationError, match="'kek-deadbeef', which is not in 'keys'"):
        keys.load_keyring(tmp_path, None)


def test_key_file_whose_id_does_not_match_its_material_is_refused(tmp_path: Path) -> None:
    key = KeyEncryptionKey.generate()
    document = {
        "format": "meshhook.keyfile",
        "version": 1,
        "active": "kek-12345678",
        "keys": {"kek-12345678": _b64(key.material)},
    }
    _write_doc(tmp_path, document)
    with pytest.raises(KeyConfigurationError, match="does not match its key material"):
        keys.load_keyring(tmp_path, None)


def test_add_key_makes_a_new_active_key_and_keeps_the_old_ones(tmp_path: Path) -> None:
    original = keys.load_keyring(tmp_path, None)
    data_key = new_data_key()
    wrapped = wrap_data_key(original, data_key, project_id=PROJECT)

    added = keys.add_key(tmp_path)

    reloaded = keys.load_keyring(tmp_path, None)
    assert reloaded.active == added
    assert added.key_id != original.active.key_id
    assert reloaded.key_ids == (added.key_id, original.active.key_id)
    assert unwrap_data_key(reloaded, wrapped, project_id=PROJECT) == data_key
    assert _mode(tmp_path / "master.key") == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]


def test_full_file_rotation_add_rewrap_retire(tmp_path: Path) -> None:
    original = keys.load_keyring(tmp_path, None)
    data_key = new_data_key()
    wrapped = wrap_data_key(original, data_key, project_id=PROJECT)
    added = keys.add_key(keys.key_file_path(tmp_path).parent)

    rewrapped = rewrap(keys.load_keyring(tmp_path, None), wrapped, project_id=PROJECT)
    retired = keys.retire_keys(tmp_path, keep=added.key_id)

    assert retired == (original.active.key_id,)
    after = keys.load_keyring(tmp_path, None)
    assert after.key_ids == (added.key_id,)
    assert unwrap_data_key(after, rewrapped, project_id=PROJECT) == data_key
    with pytest.raises(DecryptionFailed, match=original.active.key_id):
        unwrap_data_key(after, wrapped, project_id=PROJECT)
    assert _mode(tmp_path / "master.key") == 0o600


def test_retire_keys_refuses_when_keep_is_not_the_active_key(tmp_path: Path) -> None:
    original = keys.load_keyring(tmp_path, None)
    keys.add_key(tmp_path)
    before = (tmp_path / "master.key").read_bytes()
    with pytest.raises(KeyConfigurationError, match="refusing to retire"):
        keys.retire_keys(tmp_path, keep=original.active.key_id)
    assert (tmp_path / "master.key").read_bytes() == before


def test_retire_keys_with_nothing_to_retire_leaves_the_file_alone(tmp_path: Path) -> None:
    keyring = keys.load_keyring(tmp_path, None)
    before = (tmp_path / "master.key").read_bytes()
    assert keys.retire_keys(tmp_path, keep=keyring.active.key_id) == ()
    assert (tmp_path / "master.key").read_bytes() == before


def test_add_key_without_a_key_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="no key file at"):
        keys.add_key(tmp_path)
    assert not (tmp_path / "master.key").exists()


# --- environment ------------------------------------------------------------


def test_env_master_key_is_used_instead_of_the_key_file(tmp_path: Path) -> None:
    value = keys.generate_master_key()
    keyring = keys.load_keyring(tmp_path, value)
    assert keyring.active.material == base64.b64decode(value)
    assert keyring.others == ()
    assert not (tmp_path / "master.key").exists()


def test_env_master_key_has_a_stable_id(tmp_path: Path) -> None:
    value = keys.generate_master_key()
    assert (
        keys.load_keyring(tmp_path, value).active.key_id
        == keys.load_keyring(tmp_path, f"  {value}\n").active.key_id
    )


def test_generated_master_keys_are_random_base64_of_32_bytes() -> None:
    first, second = keys.generate_master_key(), keys.generate_master_key()
    assert len(base64.b64decode(first, validate=True)) == 32
    assert first != second


@pytest.mark.parametrize("length", [16, 31, 33, 64])
def test_env_master_key_of_wrong_length_is_refused_naming_the_variable(
    tmp_path: Path, length: int
) -> None:
    value = _b64(bytes(range(length)))
    with pytest.raises(KeyConfigurationError, match="MESHHOOK_MASTER_KEY") as caught:
        keys.load_keyring(tmp_path, value)
    assert f"got {length} bytes" in str(caught.value)
    assert value not in str(caught.value)


@pytest.mark.parametrize("value", ["not base64!!", "abc", "   "])
def test_env_master_key_that_is_not_base64_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(KeyConfigurationError, match="MESHHOOK_MASTER_KEY"):
        keys.load_keyring(tmp_path, value)
    assert not (tmp_path / "master.key").exists()


def test_env_previous_keys_unwrap_data_keys_wrapped_before_rotation(tmp_path: Path) -> None:
    old_value, older_value = keys.generate_master_key(), keys.generate_master_key()
    old_ring = keys.load_keyring(tmp_path, old_value)
    older_ring = keys.load_keyring(tmp_path, older_value)
    data_key, other_data_key = new_data_key(), new_data_key()
    wrapped = wrap_data_key(old_ring, data_key, project_id=PROJECT)
    other_wrapped = wrap_data_key(older_ring, other_data_key, project_id=PROJECT)

    new_value = keys.generate_master_key()
    rotating = keys.load_keyring(tmp_path, new_value, f"{old_value}, {older_value},")

    assert rotating.active.material == base64.b64decode(new_value)
    assert unwrap_data_key(rotating, wrapped, project_id=PROJECT) == data_key
    assert unwrap_data_key(rotating, other_wrapped, project_id=PROJECT) == other_data_key
    rewrapped = rewrap(rotating, wrapped, project_id=PROJECT)
    after = keys.load_keyring(tmp_path, new_value)
    assert unwrap_data_key(after, rewrapped, project_id=PROJECT) == data_key


def test_env_previous_key_of_wrong_length_is_refused_naming_its_position(tmp_path: Path) -> None:
    previous = f"{keys.generate_master_key()},{_b64(bytes(10))}"
    with pytest.raises(KeyConfigurationError, match=r"MESHHOOK_PREVIOUS_MASTER_KEYS \(entry 2\)"):
        keys.load_keyring(tmp_path, keys.generate_master_key(), previous)


def test_env_previous_keys_without_an_active_env_key_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="MESHHOOK_MASTER_KEY is not"):
        keys.load_keyring(tmp_path, None, keys.generate_master_key())
    assert not (tmp_path / "master.key").exists()


def test_keyring_built_from_env_matches_a_hand_built_keyring(tmp_path: Path) -> None:
    new, old = KeyEncryptionKey.generate(), KeyEncryptionKey.generate()
    loaded = keys.load_keyring(tmp_path, _b64(new.material), _b64(old.material))
    assert loaded == Keyring(active=new, others=(old,))
