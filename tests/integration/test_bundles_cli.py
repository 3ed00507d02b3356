"""``meshhook bundles export|import`` through the in-process API, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.definitions import linear
from tests.factories import Member
from tests.integration.conftest import Cli

FIXTURE = Path(__file__).parents[1] / "fixtures" / "realistic.bundle.json"


def test_import_then_export_round_trips_the_fixture(cli: Cli, tmp_path: Path) -> None:
    imported = cli("bundles", "import", str(FIXTURE))
    assert "created 4, replaced 0 workflow(s) in project alpha" in imported.output
    assert "order-sync" in imported.output
    assert "warning: /dependencies/secrets/" in imported.output
    out = tmp_path / "alpha.bundle.json"
    exported = cli("bundles", "export", "--all", "-o", str(out))
    assert f"4 workflow(s), {out.stat().st_size:,} bytes" in exported.output
    assert "order-sync" in exported.output
    assert "production→2" in exported.output
    mine, fixture = json.loads(out.read_bytes()), json.loads(FIXTURE.read_bytes())
    mine.pop("exportedAt")
    fixture.pop("exportedAt")
    assert mine == fixture


def test_existing_keys_are_listed_and_force_and_dry_run_work(cli: Cli) -> None:
    cli("bundles", "import", str(FIXTURE))
    refused = cli("bundles", "import", str(FIXTURE), code=1)
    assert "already exist" in refused.output
    assert "/workflows/2/key" in refused.output
    assert "pass --force to replace them" in refused.output  # the CLI option, not force=true
    assert "force=true" not in refused.output
    dry = cli("bundles", "import", str(FIXTURE), "--force", "--dry-run")
    assert "would create 0, would replace 4" in dry.output
    assert "nothing was written" in dry.output
    assert "identical head" in dry.output
    forced = cli("bundles", "import", str(FIXTURE), "--force", "--json")
    report = json.loads(forced.output)
    assert (report["created"], report["replaced"]) == (0, 4)


def test_export_chosen_keys_to_stdout(cli: Cli, client: TestClient, owner: Member) -> None:
    for key in ("one", "two"):
        client.post(
            "/api/v1/projects/alpha/workflows",
            json={"key": key, "name": key, "definition": linear()},
            headers=owner.headers,
        )
    result = cli("bundles", "export", "--key", "two", "-o", "-", code=None)
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    assert [w["key"] for w in bundle["workflows"]] == ["two"]


def test_usage_errors_are_plain(cli: Cli, tmp_path: Path) -> None:
    assert "--key" in cli("bundles", "export", "-o", str(tmp_path / "x"), code=2).output
    both = cli("bundles", "export", "--all", "--key", "a", "-o", str(tmp_path / "x"), code=2)
    assert "--all" in both.output
    missing = cli("bundles", "import", str(tmp_path / "nope.json"), code=2)
    assert "cannot read" in missing.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "meshhook.workflow-bundle", "formatVersion": 2}')
    refused = cli("bundles", "import", str(bad), code=1)
    assert "formatVersion" in refused.output
    unknown = cli("bundles", "export", "--key", "ghost", "-o", str(tmp_path / "y"), code=1)
    assert "ghost" in unknown.output
    assert not (tmp_path / "y").exists()
