"""Security domain errors."""

from __future__ import annotations

from mrs.errors import Forbidden


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = "This form has expired or did not come from this site. Reload the page and try again."
