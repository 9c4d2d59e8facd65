"""Security: response headers, CSRF, TLS certificates and serving, the deploy check."""
