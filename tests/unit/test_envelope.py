from __future__ import annotations

import pytest

from meshhook.security.envelope import (
    NONCE_BYTES,
    DecryptionFailed,
    KeyConfigurationError,
    KeyEncryptionKey,
    Keyring,
    WrappedKey,
    decrypt_value,
    derive_key_id,
    encrypt_value,
    new_data_key,
    rewrap,
    unwrap_data_key,
    wrap_data_key,
)

PROJECT = "proj-1"
NAME = "STRIPE_API_KEY"
SECRET = "sk_live_ünïcode-and-more"


def _flip(blob: bytes, index: int) -> bytes:
    changed = bytearray(blob)
    changed[index] ^= 0x01
    return bytes(changed)


@pytest.fixture
def kek() -> KeyEncryptionKey:
    return KeyEncryptionKey.generate()


@pytest.fixture
def data_key() -> bytes:
    return new_data_key()


def test_value_round_trips_and_ciphertext_does_not_contain_plaintext(data_key: bytes) -> None:
    blob = encrypt_value(data_key, SECRET, project_id=PROJECT, name=NAME)
    assert SECRET.encode() not in blob
    assert decrypt_value(data_key, blob, project_id=PROJECT, name=NAME) == SECRET


def test_empty_value_round_trips(data_key: bytes) -> None:
    blob = encrypt_value(data_key, "", project_id=PROJECT, name=NAME)
    assert decrypt_value(data_key, blob, project_id=PROJECT, name=NAME) == ""


def test_encrypting_twice_uses_fresh_nonces(data_key: bytes) -> None:
    blobs = [encrypt_value(data_key, SECRET, project_id=PROJECT, name=NAME) for _ in range(50)]
    nonces = {blob[1 : 1 + NONCE_BYTES] for blob in blobs}
    assert len(nonces) == 50
    assert len(set(blobs)) == 50


def test_data_keys_are_random_32_bytes() -> None:
    first, second = new_data_key(), new_data_key()
    assert len(first) == 32
    assert first != second


@pytest.mark.parametrize(
    ("part", "index"),
    [("version", 0), ("nonce", 1), ("ciphertext", 1 + NONCE_BYTES), ("tag", -1)],
)
def test_tampering_with_any_part_of_a_value_is_detected(
    data_key: bytes, part: str, index: int
) -> None:
    blob = encrypt_value(data_key, SECRET, project_id=PROJECT, name=NAME)
    with pytest.raises(DecryptionFailed) as caught:
        decrypt_value(data_key, _flip(blob, index), project_id=PROJECT, name=NAME)
    assert SECRET not in str(caught.value)


def test_truncated_value_is_detected(data_key: bytes) -> None:
    blob = encrypt_value(data_key, SECRET, project_id=PROJECT, name=NAME)
    with pytest.raises(DecryptionFailed, match="truncated"):
        decrypt_value(data_key, blob[:20], project_id=PROJECT, name=NAME)
    with pytest.raises(DecryptionFailed):
        decrypt_value(data_key, blob[:-1], project_id=PROJECT, name=NAME)


def test_value_copied_to_another_project_fails(data_key: bytes) -> None:
    blob = encrypt_value(data_key, SECRET, project_id=PROJECT, name=NAME)
    with pytest.raises(DecryptionFailed):
        decrypt_value(data_key, blob, project_id="proj-2", name=NAME)


def test_value_copied_to_another_secret_name_fails(data_key: bytes) -> None:
    blob = encrypt_value(data_key, SECRET, project_id=PROJECT, name=NAME)
    with pytest.raises(DecryptionFailed):
        decrypt_value(data_key, blob, project_id=PROJECT, name="OTHER_KEY")


def test_project_and_name_cannot_be_shifted_across_the_separator(data_key: bytes) -> None:
    blob = encrypt_value(data_key, SECRET, project_id="a|b", name="c")
    with pytest.raises(DecryptionFailed):
        decrypt_value(data_key, blob, project_id="a", name="b|c")


def test_value_under_another_data_key_fails(data_key: bytes) -> None:
    blob = encrypt_value(data_key, SECRET, project_id=PROJECT, name=NAME)
    with pytest.raises(DecryptionFailed):
        decrypt_value(new_data_key(), blob, project_id=PROJECT, name=NAME)


def test_data_key_wrap_round_trips(kek: KeyEncryptionKey, data_key: bytes) -> None:
    keyring = Keyring(active=kek)
    wrapped = wrap_data_key(keyring, data_key, project_id=PROJECT)
    assert wrapped.key_id == kek.key_id
    assert data_key not in wrapped.blob
    assert unwrap_data_key(keyring, wrapped, project_id=PROJECT) == data_key


def test_wrapped_data_key_moved_to_another_project_fails(
    kek: KeyEncryptionKey, data_key: bytes
) -> None:
    keyring = Keyring(active=kek)
    wrapped = wrap_data_key(keyring, data_key, project_id=PROJECT)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(keyring, wrapped, project_id="proj-2")


@pytest.mark.parametrize("index", [0, 1, 1 + NONCE_BYTES, -1])
def test_tampered_wrapped_data_key_is_detected(
    kek: KeyEncryptionKey, data_key: bytes, index: int
) -> None:
    keyring = Keyring(active=kek)
    wrapped = wrap_data_key(keyring, data_key, project_id=PROJECT)
    tampered = WrappedKey(key_id=wrapped.key_id, blob=_flip(wrapped.blob, index))
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(keyring, tampered, project_id=PROJECT)


def test_wrapped_data_key_relabelled_with_another_key_id_fails(data_key: bytes) -> None:
    first, second = KeyEncryptionKey.generate(), KeyEncryptionKey.generate()
    keyring = Keyring(active=first, others=(second,))
    wrapped = wrap_data_key(keyring, data_key, project_id=PROJECT)
    relabelled = WrappedKey(key_id=second.key_id, blob=wrapped.blob)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(keyring, relabelled, project_id=PROJECT)


def test_unknown_key_id_error_names_the_missing_id_but_not_key_material(
    kek: KeyEncryptionKey, data_key: bytes
) -> None:
    old = KeyEncryptionKey.generate()
    wrapped = wrap_data_key(Keyring(active=old), data_key, project_id=PROJECT)
    with pytest.raises(DecryptionFailed) as caught:
        unwrap_data_key(Keyring(active=kek), wrapped, project_id=PROJECT)
    message = str(caught.value)
    assert old.key_id in message
    assert caught.value.extra == {"key_id": old.key_id}
    assert old.material.hex() not in message
    assert repr(old.material) not in message
    assert repr(kek.material) not in message


def test_rewrap_moves_data_key_to_active_key_so_old_key_can_be_dropped(data_key: bytes) -> None:
    old, new = KeyEncryptionKey.generate(), KeyEncryptionKey.generate()
    wrapped = wrap_data_key(Keyring(active=old), data_key, project_id=PROJECT)
    rotating = Keyring(active=new, others=(old,))

    rewrapped = rewrap(rotating, wrapped, project_id=PROJECT)

    assert rewrapped.key_id == new.key_id
    only_new = rotating.only_active()
    assert only_new.key_ids == (new.key_id,)
    assert unwrap_data_key(only_new, rewrapped, project_id=PROJECT) == data_key
    with pytest.raises(DecryptionFailed, match=old.key_id):
        unwrap_data_key(only_new, wrapped, project_id=PROJECT)


def test_rewrap_under_the_active_key_is_a_no_op(kek: KeyEncryptionKey, data_key: bytes) -> None:
    keyring = Keyring(active=kek, others=(KeyEncryptionKey.generate(),))
    wrapped = wrap_data_key(keyring, data_key, project_id=PROJECT)
    assert rewrap(keyring, wrapped, project_id=PROJECT) is wrapped


def test_rewrap_keeps_the_project_binding(data_key: bytes) -> None:
    old, new = KeyEncryptionKey.generate(), KeyEncryptionKey.generate()
    wrapped = wrap_data_key(Keyring(active=old), data_key, project_id=PROJECT)
    rewrapped = rewrap(Keyring(active=new, others=(old,)), wrapped, project_id=PROJECT)
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(Keyring(active=new), rewrapped, project_id="proj-2")


def test_rewrap_refuses_a_data_key_of_another_project(data_key: bytes) -> None:
    old, new = KeyEncryptionKey.generate(), KeyEncryptionKey.generate()
    wrapped = wrap_data_key(Keyring(active=old), data_key, project_id=PROJECT)
    with pytest.raises(DecryptionFailed):
        rewrap(Keyring(active=new, others=(old,)), wrapped, project_id="proj-2")


def test_key_id_is_stable_for_the_same_material_and_differs_between_keys() -> None:
    material = bytes(range(32))
    assert KeyEncryptionKey.from_material(material).key_id == derive_key_id(material)
    assert derive_key_id(material) == derive_key_id(bytes(range(32)))
    assert derive_key_id(material).startswith("kek-")
    assert len(derive_key_id(material)) == len("kek-") + 8
    assert derive_key_id(material) != derive_key_id(bytes(32))


def test_repr_of_a_key_does_not_show_its_material(kek: KeyEncryptionKey) -> None:
    for text in (repr(kek), str(kek), repr(Keyring(active=kek))):
        assert kek.key_id in text
        assert repr(kek.material) not in text
        assert kek.material.hex() not in text


def test_key_of_wrong_length_is_refused() -> None:
    with pytest.raises(KeyConfigurationError, match="32 bytes, got 16"):
        KeyEncryptionKey.from_material(bytes(16))


def test_key_with_an_id_that_does_not_match_its_material_is_refused() -> None:
    with pytest.raises(KeyConfigurationError, match="does not match"):
        KeyEncryptionKey(key_id="kek-00000000", material=bytes(range(32)))


def test_keyring_lists_active_first_and_ignores_a_repeated_key(kek: KeyEncryptionKey) -> None:
    old = KeyEncryptionKey.generate()
    keyring = Keyring(active=kek, others=(old, kek, old))
    assert keyring.key_ids == (kek.key_id, old.key_id)
    assert keyring.get(old.key_id) == old


def test_data_key_of_wrong_length_is_refused_before_encrypting(kek: KeyEncryptionKey) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_data_key(Keyring(active=kek), b"short", project_id=PROJECT)
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_value(b"short", SECRET, project_id=PROJECT, name=NAME)
