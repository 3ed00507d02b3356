"""A small typed client for the MeshHook HTTP API (what ``meshhook workflows`` uses).

It only speaks HTTP: it never touches the database, so the commands built on it
work against a remote server. Every failure becomes a :class:`ClientError` (a
``MeshHookError``) with a readable message, never an httpx traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, cast
from urllib.parse import quote

import httpx
import orjson

from meshhook import __version__
from meshhook.domain.errors import MeshHookError, Problem
from meshhook.domain.patch import make_patch

DEFAULT_URL = "http://127.0.0.1:8080"
PAGE_MAX = 200
CHUNK_BYTES = 256 * 1024

Json = dict[str, Any]
# ``set_secret(allowed_hosts=...)`` left out: a replaced secret keeps its list.
KEEP_HOSTS: Any = object()
Progress = Callable[[int, int | None], None]
"""``(done, total)`` in bytes; ``total`` is ``None`` when unknown."""


class ClientError(MeshHookError):
    """The server answered with an error (or could not be asked at all).

    ``status`` is the HTTP status (0 when there was no answer), ``errors`` the
    problems of a problem+json body, ``conflicts`` those of a refused merge (409),
    and ``body`` the problem+json document as received.
    """

    def __init__(
        self,
        detail: str,
        *,
        status: int = 0,
        errors: Sequence[Problem] = (),
        conflicts: Sequence[Json] = (),
        body: Json | None = None,
    ) -> None:
        super().__init__(detail, list(errors))
        self.http_status = status
        self.conflicts = list(conflicts)
        self.body = dict(body or {})


class NotConfigured(ClientError):
    """``MESHHOOK_URL`` / ``MESHHOOK_TOKEN`` are missing or unusable."""


class ServerUnreachable(ClientError):
    """No HTTP answer: connection refused, DNS failure, timeout."""


@dataclass(frozen=True, slots=True)
class Versioned:
    """A workflow as returned with its ``ETag`` (the head version number)."""

    body: Json
    version: int

    @property
    def merged(self) -> bool:
        """A stale save was merged three-way with changes saved since its base."""
        return bool(self.body.get("merged"))


def _segment(value: str) -> str:
    return quote(value, safe="")


def _etag_version(response: httpx.Response) -> int:
    text = response.headers.get("etag", "").removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ClientError(f"the server sent no usable ETag (got {text!r})", status=200)
    return int(text)


def _problem(item: Any) -> Problem:
    fields = item if isinstance(item, dict) else {}
    severity = "warning" if fields.get("severity") == "warning" else "error"
    return Problem(
        path=str(fields.get("path", "")),
        code=str(fields.get("code", "")),
        message=str(fields.get("message", item)),
        severity=cast(Literal["error", "warning"], severity),
    )


def _error_of(response: httpx.Response) -> ClientError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "detail" not in body:
        text = " ".join(response.text.split())[:200] or response.reason_phrase
        return ClientError(
            f"HTTP {response.status_code} from {response.request.url}: {text}",
            status=response.status_code,
        )
    detail = str(body["detail"])
    if response.status_code == 401:
        detail += " (check MESHHOOK_TOKEN)"
    raw_errors = body.get("errors")
    raw_conflicts = body.get("conflicts")
    return ClientError(
        detail,
        status=response.status_code,
        errors=[_problem(item) for item in raw_errors] if isinstance(raw_errors, list) else [],
        conflicts=[c for c in raw_conflicts if isinstance(c, dict)]
        if isinstance(raw_conflicts, list)
        else [],
        body=body,
    )


class MeshHookClient:
    """Calls to ``/api/v1`` with a bearer token.

    ``transport`` routes requests somewhere other than the network (tests,
    proxies); ``session`` sends through an existing ``httpx.Client`` instead,
    such as starlette's ``TestClient``, which this client then never closes.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        session: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._owned = session is None
        self._http = session or httpx.Client(
            base_url=self.base_url, transport=transport, timeout=timeout
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MeshHookClient:
        """A client for ``MESHHOOK_URL`` (default ``http://127.0.0.1:8080``) and
        ``MESHHOOK_TOKEN`` (required)."""
        env = os.environ if environ is None else environ
        url = env.get("MESHHOOK_URL", "").strip() or DEFAULT_URL
        if not url.startswith(("http://", "https://")):
            raise NotConfigured(f"MESHHOOK_URL must start with http:// or https:// (got {url!r})")
        token = env.get("MESHHOOK_TOKEN", "").strip()
        if not token:
            raise NotConfigured(
                "MESHHOOK_TOKEN is not set: create a token with"
                " `meshhook tokens create EMAIL` (or in the web UI) and export MESHHOOK_TOKEN"
            )
        return cls(url, token)

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> MeshHookClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool] | None = None,
        body: Any = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """One request; errors become :class:`ClientError`. With ``stream`` the body
        is left unread (the caller iterates and closes the response)."""
        all_headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json, application/problem+json",
            "User-Agent": f"meshhook-cli/{__version__}",
            **(headers or {}),
        }
        query = {
            name: ("true" if value is True else "false" if value is False else value)
            for name, value in (params or {}).items()
        }
        try:
            request = self._http.build_request(
                method,
                "/api/v1" + path,
                params=query,
                json=body,
                content=content,
                headers=all_headers,
            )
            response = self._http.send(request, stream=stream)
            if response.is_error and stream:
                response.read()
                response.close()
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise ServerUnreachable(
                f"cannot reach MeshHook at {self.base_url}: {reason}"
            ) from error
        except httpx.HTTPError as error:
            raise ClientError(f"request to {self.base_url} failed: {error}") from error
        if response.is_error:
            raise _error_of(response)
        return response

    def _decode(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise ClientError(
                f"the server at {self.base_url} did not answer with JSON"
                f" (HTTP {response.status_code}); is MESHHOOK_URL a MeshHook server?",
                status=response.status_code,
            ) from error

    def _json(self, method: str, path: str, **options: Any) -> Any:
        return self._decode(self._send(method, path, **options))

    def _versioned(self, method: str, path: str, **options: Any) -> Versioned:
        response = self._send(method, path, **options)
        return Versioned(body=self._decode(response), version=_etag_version(response))

    @staticmethod
    def _workflows(project: str, ref: str | None = None) -> str:
        base = f"/projects/{_segment(project)}/workflows"
        return base if ref is None else f"{base}/{_segment(ref)}"

    # -- workflows --------------------------------------------------------------

    def list_workflows(
        self,
        project: str,
        *,
        q: str | None = None,
        tag: str | None = None,
        is_template: bool | None = None,
        published: bool | None = None,
        deleted: bool = False,
        sort: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Json:
        """One page: ``{"items": [...], "next_cursor": ... | None}``."""
        given = {
            "q": q,
            "tag": tag,
            "is_template": is_template,
            "published": published,
            "deleted": deleted or None,
            "sort": sort,
            "limit": limit,
            "cursor": cursor,
        }
        params = {name: value for name, value in given.items() if value is not None}
        page: Json = self._json("GET", self._workflows(project), params=params)
        return page

    def iter_workflows(self, project: str, **filters: Any) -> Iterator[Json]:
        """Every workflow matching ``filters`` (as :meth:`list_workflows`), page by page."""
        filters.setdefault("limit", PAGE_MAX)
        cursor: str | None = None
        while True:
            page = self.list_workflows(project, **{**filters, "cursor": cursor})
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def get_workflow(self, project: str, ref: str) -> Versioned:
        """The workflow with its head definition; ``version`` is its ETag."""
        return self._versioned("GET", self._workflows(project, ref))

    def create_workflow(
        self,
        project: str,
        name: str,
        *,
        definition: Any = None,
        template: str | None = None,
        key: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        is_template: bool = False,
    ) -> Versioned:
        """Create from a definition or from a template (key or workflow id)."""
        body: Json = {"name": name}
        if definition is not None:
            body["definition"] = definition
        if template is not None:
            body["template"] = template
        if key is not None:
            body["key"] = key
        if description is not None:
            body["description"] = description
        if tags:
            body["tags"] = list(tags)
        if is_template:
            body["is_template"] = True
        return self._versioned("POST", self._workflows(project), body=body)

    def save_workflow(
        self,
        project: str,
        ref: str,
        definition: Any,
        base_version: int,
        message: str = "",
        *,
        base_definition: Any = None,
        minimal: bool = False,
    ) -> Versioned:
        """Save a new version based on ``base_version`` (sent as ``If-Match``).

        A stale base is merged by the server (``merged`` is then true); overlapping
        changes raise a 409 :class:`ClientError` whose ``conflicts`` say where.
        With ``base_definition`` (that version's definition), an RFC 6902 patch
        from it is sent instead of the document when the patch is smaller: the
        server saves the same thing either way. ``minimal``: ask the server not to
        send the saved definition back (``Prefer: return=minimal``; it still does
        when it merged).
        """
        body: Json = {"definition": definition}
        if message:
            body["message"] = message
        if base_definition is not None:
            patch = make_patch(base_definition, definition)
            patch_bytes = orjson.dumps(patch)
            if len(patch_bytes) < len(orjson.dumps(body)):
                return self.patch_definition(
                    project, ref, patch_bytes, base_version, message, minimal=minimal
                )
        return self._versioned(
            "PUT",
            self._workflows(project, ref),
            body=body,
            headers={"If-Match": f'"{base_version}"', **_prefer(minimal)},
        )

    def patch_definition(
        self,
        project: str,
        ref: str,
        patch: bytes,
        base_version: int,
        message: str = "",
        *,
        minimal: bool = False,
    ) -> Versioned:
        """Save the RFC 6902 ``patch`` (JSON bytes) applied to version ``base_version``."""
        return self._versioned(
            "PATCH",
            self._workflows(project, ref) + "/definition",
            content=patch,
            params={"message": message} if message else None,
            headers={
                "If-Match": f'"{base_version}"',
                "Content-Type": "application/json-patch+json",
                **_prefer(minimal),
            },
        )

    def update_workflow(self, project: str, ref: str, **changes: Any) -> Versioned:
        """Change metadata only: ``name``, ``description``, ``tags``, ``is_template``."""
        return self._versioned("PATCH", self._workflows(project, ref), body=changes)

    def delete_workflow(self, project: str, ref: str) -> None:
        self._send("DELETE", self._workflows(project, ref))

    def restore_workflow(self, project: str, workflow_id: str) -> Versioned:
        return self._versioned("POST", self._workflows(project, workflow_id) + "/restore")

    def clone_workflow(
        self, project: str, ref: str, name: str, *, key: str | None = None
    ) -> Versioned:
        body: Json = {"name": name} if key is None else {"name": name, "key": key}
        return self._versioned("POST", self._workflows(project, ref) + "/clone", body=body)

    # -- versions ---------------------------------------------------------------

    def history(
        self, project: str, ref: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Json:
        """One page of versions, newest first."""
        params: dict[str, str | int | bool] = {}
        if limit is not None:
            params["limit"] = limit
        if cursor is not None:
            params["cursor"] = cursor
        page: Json = self._json("GET", self._workflows(project, ref) + "/versions", params=params)
        return page

    def iter_history(self, project: str, ref: str) -> Iterator[Json]:
        cursor: str | None = None
        while True:
            page = self.history(project, ref, limit=PAGE_MAX, cursor=cursor)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def get_version(self, project: str, ref: str, number: int) -> Json:
        found: Json = self._json("GET", f"{self._workflows(project, ref)}/versions/{number}")
        return found

    def compare(self, project: str, ref: str, old: int, new: int) -> Json:
        """The structural diff from version ``old`` to version ``new``."""
        diff: Json = self._json(
            "GET",
            self._workflows(project, ref) + "/versions/compare",
            params={"from": old, "to": new},
        )
        return diff

    def publish(
        self,
        project: str,
        ref: str,
        *,
        version: int | None = None,
        tag: str | None = None,
        note: str | None = None,
    ) -> Json:
        """Publish ``version`` (default: the head); 422 with the problems if incomplete."""
        given = {"version": version, "tag": tag, "note": note}
        body = {name: value for name, value in given.items() if value is not None}
        info: Json = self._json(
            "POST", self._workflows(project, ref) + "/versions/publish", body=body
        )
        return info

    def revert(self, project: str, ref: str, number: int, *, publish: bool = False) -> Versioned:
        """A new head equal to version ``number``; ``publish`` publishes it too."""
        params: dict[str, str | int | bool] = {"publish": True} if publish else {}
        return self._versioned(
            "POST", f"{self._workflows(project, ref)}/versions/{number}/revert", params=params
        )

    def list_aliases(self, project: str, ref: str) -> list[Json]:
        aliases: list[Json] = self._json("GET", self._workflows(project, ref) + "/aliases")
        return aliases

    def set_alias(
        self, project: str, ref: str, name: str, version: int, canary: Json | None = None
    ) -> Json:
        body: Json = {"version": version}
        if canary is not None:
            body["canary"] = canary
        alias: Json = self._json(
            "PUT", f"{self._workflows(project, ref)}/aliases/{_segment(name)}", body=body
        )
        return alias

    def delete_alias(self, project: str, ref: str, name: str) -> None:
        self._send("DELETE", f"{self._workflows(project, ref)}/aliases/{_segment(name)}")

    def get_schedule(self, project: str, ref: str, *, count: int = 5) -> Json:
        found: Json = self._json(
            "GET", self._workflows(project, ref) + "/schedule", params={"count": count}
        )
        return found

    # -- definitions ------------------------------------------------------------

    def node_types(self) -> list[Json]:
        types: list[Json] = self._json("GET", "/node-types")
        return types

    def templates(self) -> list[Json]:
        found: list[Json] = self._json("GET", "/templates")
        return found

    def validate(self, project: str, definition: Any) -> Json:
        """``{valid, errors, warnings}`` from the server, nothing saved."""
        report: Json = self._json(
            "POST", f"/projects/{_segment(project)}/validate", body={"definition": definition}
        )
        return report

    # -- secrets and audit --------------------------------------------------------

    def _secrets(self, project: str, name: str | None = None) -> str:
        path = f"/projects/{_segment(project)}/secrets"
        return f"{path}/{_segment(name)}" if name is not None else path

    def set_secret(
        self,
        project: str,
        name: str,
        value: str,
        *,
        description: str = "",
        allowed_hosts: list[str] | None = KEEP_HOSTS,
    ) -> Json:
        """Create or replace a secret; the answer carries its metadata, never the value.

        ``allowed_hosts`` left out keeps a replaced secret's list; ``None`` lifts it.
        """
        body: Json = {"value": value, "description": description}
        if allowed_hosts is not KEEP_HOSTS:
            body["allowed_hosts"] = allowed_hosts
        found: Json = self._json("PUT", self._secrets(project, name), body=body)
        return found

    def get_secret(self, project: str, name: str) -> Json:
        found: Json = self._json("GET", self._secrets(project, name))
        return found

    def update_secret(self, project: str, name: str, **fields: Any) -> Json:
        """Change ``description`` or ``allowed_hosts`` (``None``: any host), keeping the value."""
        found: Json = self._json("PATCH", self._secrets(project, name), body=fields)
        return found

    def scrub_secrets(self, project: str, *, dry_run: bool = False) -> Json:
        """Replace literal credentials in stored history by ``***`` (or report them)."""
        params = {"dry_run": "true"} if dry_run else {}
        found: Json = self._json("POST", self._secrets(project, "scrub"), params=params)
        return found

    def list_secrets(self, project: str) -> list[Json]:
        found: list[Json] = self._json("GET", self._secrets(project))
        return found

    def delete_secret(self, project: str, name: str) -> None:
        self._json("DELETE", self._secrets(project, name))

    def audit(self, project: str, **filters: Any) -> Json:
        """One page of the audit log, newest first (``limit``, ``cursor``, filters)."""
        params = {key: value for key, value in filters.items() if value is not None}
        page: Json = self._json("GET", f"/projects/{_segment(project)}/audit", params=params)
        return page

    # -- bundles ------------------------------------------------------------------

    def export_bundle(
        self,
        project: str,
        *,
        keys: Sequence[str] | None = None,
        on_progress: Progress | None = None,
    ) -> bytes:
        """A bundle of ``keys`` (default: every live workflow), as the server's bytes.

        ``on_progress(received, total)`` is called as the download advances
        (``total`` is ``None`` when the server does not say).
        """
        params: dict[str, str | int | bool] = {"keys": ",".join(keys)} if keys else {}
        response = self._send(
            "GET", f"/projects/{_segment(project)}/export", params=params, stream=True
        )
        total_header = response.headers.get("content-length", "")
        total = int(total_header) if total_header.isdigit() else None
        chunks: list[bytes] = []
        received = 0
        try:
            for chunk in response.iter_bytes(CHUNK_BYTES):
                chunks.append(chunk)
                received += len(chunk)
                if on_progress is not None:
                    on_progress(received, total)
        except httpx.HTTPError as error:
            raise ServerUnreachable(
                f"the download from {self.base_url} broke off: {error}"
            ) from error
        finally:
            response.close()
        return b"".join(chunks)

    def import_bundle(
        self,
        project: str,
        data: bytes,
        *,
        force: bool = False,
        dry_run: bool = False,
        on_progress: Progress | None = None,
    ) -> Json:
        """Import a bundle (all or nothing); the server's report.

        ``on_progress(sent, total)`` is called as the upload advances.
        """

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(data), CHUNK_BYTES):
                chunk = data[start : start + CHUNK_BYTES]
                yield chunk
                if on_progress is not None:
                    on_progress(start + len(chunk), len(data))

        params: dict[str, str | int | bool] = {}
        if force:
            params["force"] = True
        if dry_run:
            params["dry_run"] = True
        report: Json = self._json(
            "POST",
            f"/projects/{_segment(project)}/import",
            params=params,
            content=chunks(),
            headers={"Content-Type": "application/json", "Content-Length": str(len(data))},
        )
        return report

    # -- runs ---------------------------------------------------------------------

    @staticmethod
    def _runs(project: str, run: str | None = None) -> str:
        base = f"/projects/{_segment(project)}/runs"
        return base if run is None else f"{base}/{_segment(run)}"

    def start_run(
        self,
        project: str,
        ref: str,
        *,
        input: Any = None,
        version: int | None = None,
        alias: str | None = None,
        test: bool = False,
        idempotency_key: str | None = None,
    ) -> Json:
        body: Json = {"test": test}
        if input is not None:
            body["input"] = input
        if version is not None:
            body["version"] = version
        if alias is not None:
            body["alias"] = alias
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        run: Json = self._json(
            "POST", f"{self._workflows(project, ref)}/runs", body=body, headers=headers
        )
        return run

    def get_run(self, project: str, run: str) -> Json:
        found: Json = self._json("GET", self._runs(project, run))
        return found

    def list_runs(self, project: str, *, limit: int = 50, **filters: Any) -> Json:
        params = {name: value for name, value in filters.items() if value is not None}
        page: Json = self._json("GET", self._runs(project), params={**params, "limit": limit})
        return page

    def stats(self, project: str, *, workflow: str | None = None, window: str = "24h") -> Json:
        """Run statistics of the project, or of one workflow."""
        base = f"/projects/{_segment(project)}"
        if workflow is not None:
            base += f"/workflows/{_segment(workflow)}"
        figures: Json = self._json("GET", f"{base}/stats", params={"window": window})
        return figures

    # -- redaction rules ---------------------------------------------------------

    def redaction_rules(self, project: str) -> Json:
        """The project's redaction patterns and every workflow's pointers."""
        rules: Json = self._json("GET", f"/projects/{_segment(project)}/redaction")
        return rules

    def set_redaction_pattern(self, project: str, name: str, pattern: str) -> Json:
        path = f"/projects/{_segment(project)}/redaction/patterns/{_segment(name)}"
        record: Json = self._json("PUT", path, body={"pattern": pattern})
        return record

    def delete_redaction_pattern(self, project: str, name: str) -> None:
        path = f"/projects/{_segment(project)}/redaction/patterns/{_segment(name)}"
        self._send("DELETE", path)

    def set_redaction_pointers(self, project: str, workflow: str, pointers: list[str]) -> Json:
        path = f"{self._workflows(project, workflow)}/redaction"
        answer: Json = self._json("PUT", path, body={"pointers": pointers})
        return answer

    # -- retention ---------------------------------------------------------------

    def get_retention(self, project: str) -> Json:
        found: Json = self._json("GET", f"/projects/{_segment(project)}/retention")
        return found

    def set_retention(
        self, project: str, delete_after_days: int | None, scrub_after_days: int | None
    ) -> Json:
        body = {"delete_after_days": delete_after_days, "scrub_after_days": scrub_after_days}
        found: Json = self._json("PUT", f"/projects/{_segment(project)}/retention", body=body)
        return found

    def run_retention(self, project: str, *, dry_run: bool) -> Json:
        report: Json = self._json(
            "POST",
            f"/projects/{_segment(project)}/retention/run",
            params={"dry_run": dry_run},
        )
        return report

    def run_events(self, project: str, run: str, *, after: int = 0) -> Json:
        page: Json = self._json(
            "GET", f"{self._runs(project, run)}/events", params={"after": after, "limit": PAGE_MAX}
        )
        return page

    def cancel_run(self, project: str, run: str) -> Json:
        cancelled: Json = self._json("POST", f"{self._runs(project, run)}/cancel")
        return cancelled

    def replay_run(self, project: str, run: str) -> Json:
        replay: Json = self._json("GET", f"{self._runs(project, run)}/replay")
        return replay

    def resume_run(self, project: str, run: str, from_node: str) -> Json:
        resumed: Json = self._json(
            "POST", f"{self._runs(project, run)}/resume", body={"from_node": from_node}
        )
        return resumed

    # -- webhooks -----------------------------------------------------------

    def get_webhook(self, project: str, ref: str) -> Json:
        found: Json = self._json("GET", f"{self._workflows(project, ref)}/webhook")
        return found

    def rotate_webhook(self, project: str, ref: str, *, grace_seconds: int = 0) -> Json:
        rotated: Json = self._json(
            "POST",
            f"{self._workflows(project, ref)}/webhook/rotate",
            body={"grace_seconds": grace_seconds},
        )
        return rotated

    def webhook_deliveries(self, project: str, ref: str) -> Json:
        found: Json = self._json("GET", f"{self._workflows(project, ref)}/webhook/deliveries")
        return found

    def test_webhook(self, project: str, ref: str, body: Any) -> Json:
        result: Json = self._json(
            "POST", f"{self._workflows(project, ref)}/webhook/test", body={"body": body}
        )
        return result

    # -- alerts -------------------------------------------------------------

    @staticmethod
    def _alerts(project: str, what: str, ref: str | None = None) -> str:
        """``what``: ``rules`` or ``destinations``."""
        base = f"/projects/{_segment(project)}/alerts/{what}"
        return base if ref is None else f"{base}/{_segment(ref)}"

    def list_alerts(self, project: str, what: str) -> list[Json]:
        found: list[Json] = self._json("GET", self._alerts(project, what))
        return found

    def create_alert(self, project: str, what: str, body: Json) -> Json:
        created: Json = self._json("POST", self._alerts(project, what), body=body)
        return created

    def update_alert(self, project: str, what: str, ref: str, body: Json) -> Json:
        changed: Json = self._json("PATCH", self._alerts(project, what, ref), body=body)
        return changed

    def delete_alert(self, project: str, what: str, ref: str) -> None:
        self._send("DELETE", self._alerts(project, what, ref))

    def test_alert(self, project: str, destination: str) -> Json:
        sent: Json = self._json(
            "POST", self._alerts(project, "destinations", destination) + "/test"
        )
        return sent

    def alert_deliveries(
        self, project: str, *, destination: str | None, rule: str | None, limit: int
    ) -> Json:
        params: dict[str, Any] = {"limit": limit}
        if destination:
            params["destination"] = destination
        if rule:
            params["rule"] = rule
        found: Json = self._json("GET", self._alerts(project, "deliveries"), params=params)
        return found


def _prefer(minimal: bool) -> dict[str, str]:
    """The ``Prefer`` header (RFC 7240) of a save that needs no definition back."""
    return {"Prefer": "return=minimal"} if minimal else {}
