from __future__ import annotations

from meshhook.security import passwords, tokens


def test_tokens_are_unique_prefixed_and_stored_as_a_hash() -> None:
    first, second = tokens.new_token(), tokens.new_token()
    assert first.value != second.value
    assert first.value.startswith(first.prefix + "_")
    assert first.digest == tokens.token_digest(first.value)
    assert first.value not in first.digest
    assert len(first.value) > 40
    assert tokens.looks_like_token(first.value)
    assert not tokens.looks_like_token("Basic abc")


def test_csrf_token_is_bound_to_its_session() -> None:
    session_a, session_b = tokens.new_token().value, tokens.new_token().value
    assert tokens.csrf_token_for(session_a) == tokens.csrf_token_for(session_a)
    assert tokens.csrf_token_for(session_a) != tokens.csrf_token_for(session_b)
    assert tokens.same_secret("abc", "abc")
    assert not tokens.same_secret("abc", "abd")


def test_passwords_verify_only_against_their_own_hash() -> None:
    digest = passwords.hash_password("correct horse battery")
    assert digest.startswith("$argon2id$")
    assert passwords.verify_password(digest, "correct horse battery")
    assert not passwords.verify_password(digest, "wrong horse battery")
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not-a-hash", "anything at all")
    assert len(passwords.generate_password()) >= passwords.MIN_PASSWORD_LENGTH
