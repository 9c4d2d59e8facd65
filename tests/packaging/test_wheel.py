"""The wheel installs without extras into a clean virtual environment and serves /health.

This is what users (and deploy/Dockerfile) do: `pip install .`, then `mrs serve`. Test
dependencies present in the development environment must not hide a missing one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 600
START_TIMEOUT = 60

pytestmark = pytest.mark.slow


def _run(args: list[str], *, timeout: float, cwd: Path | None = None) -> None:
    # The pip cache is kept on purpose: a rerun installs from it in seconds.
    env = {k: v for k, v in os.environ.items() if k != "PIP_NO_CACHE_DIR"}
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{args[:4]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


def _get_health(
    url: str, deadline: float, server: subprocess.Popen[bytes], log: Path
) -> dict[str, object]:
    while True:
        if server.poll() is not None:
            pytest.fail(
                f"mrs serve exited with {server.returncode}:\n{log.read_text(errors='replace')[-4000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return dict(json.loads(response.read()))
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"no answer from {url}:\n{log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)


def test_the_wheel_installs_without_extras_and_serves_health(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(ROOT)],
        timeout=INSTALL_TIMEOUT,
    )
    (wheel,) = wheels.glob("mrs-*.whl")
    venv = tmp_path / "venv"
    # No --system-site-packages: only what the wheel declares gets installed.
    _run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        timeout=INSTALL_TIMEOUT,
    )

    port = free_port()
    data_dir = tmp_path / "data"
    log = tmp_path / "serve.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "MRS_DATA_DIR": str(data_dir),
        "MRS_BACKUP_ENABLED": "false",
    }
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(venv / "bin" / "mrs"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        health = _get_health(
            f"http://127.0.0.1:{port}/health", time.monotonic() + START_TIMEOUT, server, log
        )
        assert health["status"] == "UP", health
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
