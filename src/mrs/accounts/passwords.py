"""Password hashing with argon2id at or above OWASP's recommended parameters."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1 as the minimum.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a wrong or malformed hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("dummy password for timing equalisation")


def burn_verification_time(password: str) -> None:
    """Spend as long as a real verification so unknown user ids cannot be told by timing."""
    verify_password(_dummy_hash(), password)


async def hash_off_loop(password: str) -> str:
    """`hash_password` on a worker thread: argon2 takes tens of milliseconds of CPU."""
    return await asyncio.to_thread(hash_password, password)


async def verify_off_loop(password_hash: str | None, password: str) -> bool:
    """`verify_password` on a worker thread; with no hash, as long as a real check, False."""
    if password_hash is None:
        await asyncio.to_thread(burn_verification_time, password)
        return False
    return await asyncio.to_thread(verify_password, password_hash, password)
