"""Webhook sender checks (HMAC signatures, JWTs), the token bucket and the run
input: pure functions, no I/O."""

from __future__ import annotations

import time

import jwt
import pytest

from meshhook.domain.node_types import get_node_type
from meshhook.domain.webhooks import Bucket, NotJson, hook_config, retry_after, run_input
from meshhook.security.webhook_auth import Refused, sign, verify_jwt, verify_signature

NOW = 1_800_000_000
BODY = b'{"order": 7}'


def check(
    header: str | None,
    *,
    secret: str = "s3cret",  # noqa: S107
    body: bytes = BODY,
    now: float = NOW,
) -> None:
    verify_signature(header, secret, body, now, 300)


def refusal(header: str | None, **kwargs: object) -> str:
    with pytest.raises(Refused) as refused:
        check(header, **kwargs)  # type: ignore[arg-type]
    return refused.value.check


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1800000000." + BODY, hashlib.sha256).hexdigest()

    assert sign("s3cret", NOW, BODY) == f"t={NOW},v1={expected}"
    check(sign("s3cret", NOW, BODY))


def test_each_bad_signature_names_the_failed_check() -> None:
    assert refusal(None) == "signature.missing"
    assert refusal("v1=abc") == "signature.malformed"
    assert refusal("t=soon,v1=abc") == "signature.malformed"
    assert refusal(sign("other", NOW, BODY)) == "signature.mismatch"
    assert refusal(sign("s3cret", NOW, BODY + b" ")) == "signature.mismatch"
    assert refusal(sign("s3cret", NOW - 301, BODY)) == "signature.stale"
    assert refusal(sign("s3cret", NOW + 301, BODY)) == "signature.future"


def test_the_tolerance_is_300_seconds_either_way() -> None:
    check(sign("s3cret", NOW - 300, BODY))
    check(sign("s3cret", NOW + 300, BODY))


def test_any_of_several_v1_values_may_match_so_senders_can_rotate_keys() -> None:
    new = sign("s3cret", NOW, BODY)
    old = sign("retired", NOW, BODY).split(",")[1]

    check(f"{new},{old}")
    check(f"t={NOW},{old},{new.split(',')[1]}")


KEY = "an-hs256-key-long-enough-for-the-test"


def token(**claims: object) -> str:
    return jwt.encode({"exp": int(time.time()) + 60, **claims}, KEY, algorithm="HS256")


def decode(authorization: str | None, **options: object) -> dict[str, object]:
    settings = {"algorithm": "HS256", "key": KEY, "issuer": None, "audience": None, "leeway": 0}
    return verify_jwt(authorization, **{**settings, **options})  # type: ignore[arg-type]


def jwt_refusal(authorization: str | None, **options: object) -> str:
    with pytest.raises(Refused) as refused:
        decode(authorization, **options)
    return refused.value.check


def test_a_valid_token_gives_its_claims() -> None:
    assert decode(f"Bearer {token(sub='shop')}")["sub"] == "shop"


def test_each_bad_token_names_the_failed_check() -> None:
    assert jwt_refusal(None) == "jwt.missing"
    assert jwt_refusal(f"Basic {token()}") == "jwt.missing"
    assert jwt_refusal(f"Bearer {token(exp=int(time.time()) - 5)}") == "jwt.expired"
    assert jwt_refusal(f"Bearer {token(nbf=int(time.time()) + 60)}") == "jwt.not_yet_valid"
    assert jwt_refusal(f"Bearer {token(aud='x')}", audience="y") == "jwt.audience"
    assert jwt_refusal(f"Bearer {token(iss='x')}", issuer="y") == "jwt.issuer"
    assert jwt_refusal(f"Bearer {token()}", issuer="y") == "jwt.missing_claim.iss"
    no_exp = jwt.encode({"sub": "x"}, KEY, algorithm="HS256")
    assert jwt_refusal(f"Bearer {no_exp}") == "jwt.missing_claim.exp"
    forged = jwt.encode(
        {"exp": int(time.time()) + 60}, "another-key-that-is-long-enough-too!!", "HS256"
    )
    assert jwt_refusal(f"Bearer {forged}") == "jwt.signature"


def test_alg_none_and_other_algorithms_are_refused() -> None:
    unsigned = jwt.encode({"exp": int(time.time()) + 60}, None, algorithm="none")

    assert jwt_refusal(f"Bearer {unsigned}") == "jwt.algorithm"
    assert jwt_refusal(f"Bearer {token()}", algorithm="none") == "jwt.algorithm"
    assert jwt_refusal(f"Bearer {token()}", algorithm="RS256") == "jwt.algorithm"


def test_the_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = Bucket(tokens=2, updated=0.0)

    assert bucket.take(0.0, 1.0, 2) == 0
    assert bucket.take(0.0, 1.0, 2) == 0
    wait = bucket.take(0.0, 1.0, 2)
    assert wait == pytest.approx(1.0)
    assert retry_after(wait) == 1
    assert bucket.take(1.0, 1.0, 2) == 0
    assert bucket.take(100.0, 1.0, 2) == 0  # refilled to the burst, not beyond
    assert bucket.take(100.0, 1.0, 2) == 0
    assert bucket.take(100.0, 1.0, 2) > 0


def test_the_run_input_hides_credentials_and_parses_json_only() -> None:
    value = run_input(
        "POST",
        "orders",
        [("a", "1"), ("a", "2")],
        [
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer x"),
            ("Cookie", "c=1"),
            ("X-MeshHook-Signature", "t=1,v1=0"),
            ("X-Tag", "one"),
            ("X-Tag", "two"),
        ],
        b'{"n": 1}',
    )

    assert value == {
        "method": "POST",
        "path": "orders",
        "query": {"a": "1"},
        "headers": {"content-type": "application/json", "x-tag": "one, two"},
        "body": {"n": 1},
    }
    text = run_input("POST", "o", [], [("content-type", "text/csv")], b"a,b\n\xff")
    assert text["body"] == "a,b\n\ufffd"
    assert run_input("GET", "o", [], [], b"")["body"] is None
    with pytest.raises(NotJson):
        run_input("POST", "o", [], [("content-type", "application/json")], b"{")


def test_config_defaults_and_secret_names() -> None:
    config = hook_config({"hmac_secret": "{{ secrets.HOOK }}"}, "order-sync")

    assert config.path == "order-sync"
    assert config.methods == ("POST",)
    assert config.max_body_bytes == 1024 * 1024
    assert (config.rate_per_second, config.burst) == (20.0, 100)
    assert config.secret_names == ("HOOK",)


def test_a_node_with_both_checks_or_a_bad_body_schema_is_refused() -> None:
    webhook = get_node_type("webhook")
    assert webhook is not None
    assert webhook.check_config is not None

    both = webhook.check_config({"hmac_secret": "{{ secrets.A }}", "jwt": {}})
    bad_schema = webhook.check_config({"body_schema": {"type": "nope"}})

    assert [issue.code for issue in both] == ["config.webhook_checks"]
    assert [issue.code for issue in bad_schema] == ["config.body_schema"]
    assert webhook.is_sensitive("/jwt/key")
