"""Rebuild src/mrs/accounts/data/common-passwords.txt.gz from Django's bundled list.

Django (BSD-3-Clause) ships the 20,000 most common passwords (from Royce Williams' list)
for its CommonPasswordValidator. We take that list as data, lower-case and de-duplicate it,
and store it gzipped, one password a line, in a stable order (by frequency rank).

Usage (reproducible):
    pip download django==5.2.19 --no-deps -d /tmp/django-wheel
    python tools/make_common_passwords.py /tmp/django-wheel/django-5.2.19-py3-none-any.whl
"""

from __future__ import annotations

import gzip
import sys
import zipfile
from pathlib import Path

MEMBER = "django/contrib/auth/common-passwords.txt.gz"
TARGET = Path(__file__).resolve().parents[1] / "src/mrs/accounts/data/common-passwords.txt.gz"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        text = gzip.decompress(archive.read(MEMBER)).decode("utf-8")
    seen: dict[str, None] = {}
    for line in text.splitlines():
        word = line.strip().lower()
        if word:
            seen.setdefault(word, None)
    data = ("\n".join(seen) + "\n").encode("utf-8")
    # mtime=0: the same input always gives the same bytes.
    TARGET.write_bytes(gzip.compress(data, mtime=0))
    print(f"{len(seen)} passwords written to {TARGET}")


if __name__ == "__main__":
    main(sys.argv[1])
