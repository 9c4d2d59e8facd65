"""MRS_LOG_FORMAT=json writes one JSON object per line with the record's fields."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from mrs.monitoring.logs import configure_logging
from mrs.settings import Settings


@pytest.fixture
def restore_mrs_logger() -> Iterator[None]:
    logger = logging.getLogger("mrs")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


def test_json_log_lines(
    restore_mrs_logger: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    configure_logging(Settings(data_dir=tmp_path, log_format="json"))
    configure_logging(Settings(data_dir=tmp_path, log_format="json"))  # idempotent
    logging.getLogger("mrs.access").info(
        "GET /x 200", extra={"fields": {"request_id": "r-1", "status": 200}}
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == "GET /x 200"
    assert entry["request_id"] == "r-1"
    assert entry["level"] == "info"
    assert entry["logger"] == "mrs.access"
