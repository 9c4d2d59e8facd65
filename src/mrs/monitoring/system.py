"""Readings of the host: memory and disk space (Linux /proc, with portable fallbacks)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HostMemory:
    total_bytes: int
    available_bytes: int

    @property
    def used_percent(self) -> float:
        if self.total_bytes <= 0:
            return 0.0
        return 100.0 * (self.total_bytes - self.available_bytes) / self.total_bytes


def host_memory(meminfo: Path = Path("/proc/meminfo")) -> HostMemory | None:
    """Total and available memory of the host (MemAvailable counts reclaimable cache)."""
    try:
        values: dict[str, int] = {}
        for line in meminfo.read_text().splitlines():
            name, _, rest = line.partition(":")
            parts = rest.split()
            if parts:
                values[name] = int(parts[0]) * 1024
        return HostMemory(values["MemTotal"], values["MemAvailable"])
    except (OSError, KeyError, ValueError):
        return None


@dataclass(frozen=True)
class DiskSpace:
    path: str
    total_bytes: int
    free_bytes: int

    @property
    def free_percent(self) -> float:
        return 100.0 * self.free_bytes / self.total_bytes if self.total_bytes else 0.0


def disk_space(path: Path) -> DiskSpace | None:
    """Space on the file system holding `path` (its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return None
    return DiskSpace(str(path), usage.total, usage.free)
