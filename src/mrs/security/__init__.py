"""Security: headers, CSRF, TLS (issue 4). Placeholder on the web branch; see csrf.py."""
