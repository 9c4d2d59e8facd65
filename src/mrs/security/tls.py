"""The server's TLS context: TLS 1.2+ with Mozilla's "intermediate" cipher choice."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

# Mozilla Server Side TLS, "intermediate" configuration: TLS 1.2 AEAD ciphers with
# forward secrecy (TLS 1.3 suites are OpenSSL's defaults, which match the guideline).
INTERMEDIATE_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    ]
)


def harden(context: ssl.SSLContext) -> ssl.SSLContext:
    """Restrict a server context to TLS 1.2+ and the intermediate ciphers."""
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(INTERMEDIATE_CIPHERS)
    # No compression (CRIME), no client-initiated renegotiation; the intermediate profile
    # lets the client pick among these equally strong ciphers.
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    return context


def server_context(certfile: str, keyfile: str | None) -> ssl.SSLContext:
    """A hardened server context for a PEM certificate chain and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return harden(context)


def uvicorn_context_factory(_config: Any, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's `ssl_context_factory`: its own context (with ALPN), hardened.

    A module-level function so that uvicorn can pickle it into worker processes.
    """
    return harden(default())
