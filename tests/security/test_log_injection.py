"""Log injection: client-controlled text can never start a log line of its own."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import httpx
import pytest

from mrs.monitoring.logs import configure_logging
from mrs.settings import Settings

FORGED = "2030-01-07 09:00:00,000 INFO mrs.access: POST /api/admin/approve-user/mallory 200"
# CR LF, then a whole fake record; NUL and ESC (terminal escape sequences) as well.
INJECTED_PATH = "/api/nothing-here%0d%0a" + FORGED.replace(" ", "%20") + "%00%1b[2J"


@pytest.fixture
def restore_mrs_logger() -> Iterator[None]:
    logger = logging.getLogger("mrs")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_forged_line_in_the_path_stays_one_escaped_log_line(
    restore_mrs_logger: None,
    capsys: pytest.CaptureFixture[str],
    client: httpx.AsyncClient,
    tmp_path: Path,
    log_format: Literal["text", "json"],
) -> None:
    configure_logging(Settings(data_dir=tmp_path, log_format=log_format))
    capsys.readouterr()
    response = await client.get(INJECTED_PATH)
    assert response.status_code == 404
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(lines) == 1, lines
    line = lines[0]
    assert not any(char in line for char in "\r\x00\x1b")
    if log_format == "json":
        entry = json.loads(line)
        logged_path = entry["path"]
        message = entry["message"]
    else:
        logged_path = message = line
    assert "\\r\\n" + FORGED in logged_path
    assert "\\0\\x1b[2J" in logged_path
    assert "\\r\\n" + FORGED in message


def test_a_traceback_quoting_client_input_cannot_start_a_line(
    restore_mrs_logger: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    configure_logging(Settings(data_dir=tmp_path, log_format="text"))
    capsys.readouterr()
    try:
        raise ValueError(f"bad value\n{FORGED}\r")
    except ValueError:
        logging.getLogger("mrs.test").exception("failed with %s", "agent\r\nX")
    lines = capsys.readouterr().err.splitlines()
    # The record's own line starts with its time; every other line is indented.
    assert lines[0].endswith("failed with agent\\r\\nX")
    assert all(line.startswith("    ") for line in lines[1:])
    assert any(line.strip() == FORGED + "\\r" for line in lines[1:])
