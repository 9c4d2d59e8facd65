"""Progress reporting for long operations; the CLI plugs a Rich progress bar in."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, label: str, total: int | None) -> None:
        """A new step begins (`total` units of work, when known)."""

    def advance(self, amount: int) -> None:
        """`amount` more units of the current step are done."""


class SilentProgress:
    """Reports nothing (library use, the scheduler)."""

    def start(self, label: str, total: int | None) -> None:
        return None

    def advance(self, amount: int) -> None:
        return None
