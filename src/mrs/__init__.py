"""MRS: a meeting-room reservation service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mrs")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"
