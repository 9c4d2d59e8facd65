"""`mrs serve` hands its options to its workers through a file, not os.environ."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mrs.settings import load_settings, serve_settings, write_serve_options


def test_workers_get_the_serve_options_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MRS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MRS_PORT", "9000")
    before = dict(os.environ)
    settings = load_settings(port=9100, workers=3)
    write_serve_options(settings, {"port": 9100, "workers": 3})
    assert dict(os.environ) == before  # nothing leaks into the environment
    worker = serve_settings()
    assert (worker.port, worker.workers) == (9100, 3)
    options = tmp_path / "serve-options.json"
    assert stat.S_IMODE(options.stat().st_mode) == 0o600
    # A later `mrs serve` without options starts from the environment again.
    write_serve_options(load_settings(), {})
    assert serve_settings().port == 9000
