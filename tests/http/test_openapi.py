"""The published API spec (docs/openapi.json) is what the code serves, byte for byte."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mrs.app import spec_app
from mrs.cli import app as cli
from mrs.http import openapi

REPO_ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = REPO_ROOT / "docs" / "openapi.json"


def test_published_spec_is_up_to_date() -> None:
    assert openapi.is_current(spec_app(), PUBLISHED), (
        "docs/openapi.json is stale: regenerate it with `.venv/bin/mrs openapi`"
    )


def test_export_is_deterministic() -> None:
    assert openapi.render(spec_app().openapi()) == openapi.render(spec_app().openapi())


def test_spec_lists_the_reservation_routes() -> None:
    paths = spec_app().openapi()["paths"]
    assert "post" in paths["/api/rooms/{room_id}/reservations"]
    assert "delete" in paths["/api/reservations/{reservation_id}"]


def test_cli_writes_the_spec_and_check_detects_a_stale_file(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    runner = CliRunner()

    written = runner.invoke(cli, ["openapi", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8") == PUBLISHED.read_text(encoding="utf-8")
    assert runner.invoke(cli, ["openapi", "--check", "--output", str(target)]).exit_code == 0

    target.write_text('{"stale": true}\n', encoding="utf-8")
    stale = runner.invoke(cli, ["openapi", "--check", "--output", str(target)])
    assert stale.exit_code == 1
    assert "stale" in stale.output
