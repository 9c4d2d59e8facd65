"""What every `mrs` command does at the terminal: a one-line error, settings or exit 2."""

from __future__ import annotations

import typer

from mrs.settings import Settings, load_settings


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    """The settings from the environment; invalid ones end the command with exit code 2."""
    try:
        return load_settings()
    except ValueError as exc:
        raise fail(f"invalid settings: {exc}", 2) from exc
