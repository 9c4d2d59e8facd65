"""The prometheus-client multiprocess directory, prepared by `mrs serve`.

Kept apart from mrs.monitoring.metrics on purpose: preparing the directory must not import
prometheus_client, which chooses its storage (memory or shared files) at import time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus-client itself
# prometheus-client names each process's files `<kind>[_<mode>]_<pid>.db`.
_PID_OF_FILE = re.compile(r"_(\d+)\.db$")


def prepare_multiprocess_dir(path: Path) -> Path:
    """Empty (or create) the directory and point prometheus-client at it. Call before
    the workers start: stale files from an earlier run would add to this run's counters.

    The directory is 0700 whatever the umask: the files show request figures and
    paths of the service, for its own user only.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    for child in path.glob("*.db"):
        child.unlink()
    os.environ[ENV_VAR] = str(path)
    return path


def multiprocess_dir() -> str | None:
    """The directory prometheus-client writes to, when multiprocess mode is on."""
    return os.environ.get(ENV_VAR) or None


def tidy_multiprocess_dir(path: str) -> None:
    """Before collecting: forget the live gauges of workers that no longer exist, and
    keep every file 0600.

    A worker killed with SIGKILL never runs an exit hook, so its `mrs_processes` and
    other live gauges kept being counted; here they are marked dead as soon as its
    pid is gone (or a zombie waiting to be reaped). prometheus-client creates files
    with the process umask; the directory is 0700 and the files are narrowed here.
    """
    from prometheus_client import multiprocess

    pids: set[int] = set()
    for child in Path(path).glob("*.db"):
        if match := _PID_OF_FILE.search(child.name):
            pids.add(int(match.group(1)))
        try:
            if child.stat().st_mode & 0o077:
                child.chmod(0o600)
        except OSError:
            continue  # gone meanwhile, or another user's: nothing to narrow
    for pid in pids:
        if not _process_exists(pid):
            multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, under another user
    try:
        # Killed but not yet reaped by its parent: a zombie, no longer a worker.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"
