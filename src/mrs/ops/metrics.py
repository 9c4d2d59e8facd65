"""Prometheus gauges for backups, set by the process that ran the backup."""

from __future__ import annotations

from prometheus_client import Gauge

# "max": with several worker processes, the newest success wins whichever process ran it.
BACKUP_LAST_SUCCESS = Gauge(
    "mrs_backup_last_success_timestamp_seconds",
    "Unix time of the last successful backup.",
    multiprocess_mode="max",
)
# "liveall": only the process that made the backup knows its duration and size.
BACKUP_LAST_DURATION = Gauge(
    "mrs_backup_last_duration_seconds",
    "How long the last successful backup took (dump and checksums).",
    multiprocess_mode="liveall",
)
BACKUP_LAST_SIZE = Gauge(
    "mrs_backup_last_size_bytes",
    "Size of the last successful backup file.",
    multiprocess_mode="liveall",
)


def record_backup_success(*, finished_unix: float, seconds: float, size_bytes: int) -> None:
    BACKUP_LAST_SUCCESS.set(finished_unix)
    BACKUP_LAST_DURATION.set(seconds)
    BACKUP_LAST_SIZE.set(size_bytes)
