"""Filling an http_call's placeholders from the step input and the secrets."""

from __future__ import annotations

import pytest

from meshhook.domain.runs.placeholders import PlaceholderError, placeholder_issues, render


def test_a_placeholder_opening_the_url_is_its_base_and_is_not_encoded() -> None:
    rendered = render(
        {"url": "{{ input.api }}/orders/{{ input.id }}"}, {"api": "https://x.test", "id": "a b"}, {}
    )

    assert rendered.url == "https://x.test/orders/a%20b"


def test_a_body_string_that_is_one_placeholder_becomes_the_value_itself() -> None:
    rendered = render(
        {
            "url": "https://x.test",
            "body": {"items": "{{ input.items }}", "n": "{{ input.n }} items"},
        },
        {"items": [1, 2], "n": 2},
        {},
    )

    assert rendered.body == {"items": [1, 2], "n": "2 items"}
    assert rendered.has_body


def test_the_whole_input_and_non_string_values_in_headers() -> None:
    rendered = render({"url": "https://x.test", "headers": {"X-Data": "{{ input }}"}}, {"a": 1}, {})

    assert rendered.headers == {"X-Data": '{"a":1}'}


def test_secrets_are_masked_when_rendering_for_the_record() -> None:
    config = {"url": "https://x.test", "query": {"api_key": "{{ secrets.KEY }}"}}

    assert render(config, {}, {"KEY": "v"}).query == {"api_key": "v"}
    assert render(config, {}, None).query == {"api_key": "***"}


def test_an_expression_that_fails_names_the_field() -> None:
    with pytest.raises(PlaceholderError) as caught:
        render({"url": "https://x.test", "body": ["{{ input.abs(@) }}"]}, "text", {})

    assert caught.value.pointer == "/body/0"


def test_placeholders_that_could_never_be_filled_are_reported_where_they_are() -> None:
    config = {
        "url": "https://x.test/{{ input.a[ }}",
        "headers": {"X-Trace": "{{ env.TRACE }}"},
        "body": {"ok": "{{ input.order.id }}"},
    }

    issues = placeholder_issues(config)

    assert [pointer for pointer, _ in issues] == ["/headers/X-Trace", "/url"]
    assert "not a placeholder MeshHook fills" in issues[0][1]


@pytest.mark.parametrize(
    ("auth", "sent", "recorded"),
    [
        (
            {"type": "bearer", "token": "{{ secrets.T }}"},
            ("Authorization", "Bearer s3"),
            "Bearer ***",
        ),
        (
            {"type": "basic", "username": "ann", "password": "{{ secrets.T }}"},
            ("Authorization", "Basic YW5uOnMz"),
            "Basic ann:***",
        ),
        (
            {"type": "header", "header_name": "X-Api-Key", "value": "{{ secrets.T }}"},
            ("X-Api-Key", "s3"),
            "***",
        ),
    ],
)
def test_auth_becomes_its_header_and_is_masked_in_the_record(
    auth: dict[str, str], sent: tuple[str, str], recorded: str
) -> None:
    config = {"url": "https://x.test", "auth": auth}

    assert render(config, {}, {"T": "s3"}).headers[sent[0]] == sent[1]
    assert render(config, {}, None).headers[sent[0]] == recorded
