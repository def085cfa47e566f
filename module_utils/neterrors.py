"""One short, stable phrase for why an HTTP request got no answer.

``open_url`` and ``urllib`` wrap the same failure in several shapes (``URLError`` around
an ``OSError``, a bare ``TimeoutError``, an ``http.client`` exception); results and
messages want the cause in words, the same way everywhere.
"""

import http.client
import urllib.error

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError

# What a request through open_url raises when no HTTP answer came back (HTTPError, an
# answer with a bad status, is a URLError too: catch it first).
NO_ANSWER = (
    urllib.error.URLError,
    OSError,
    http.client.HTTPException,
    UrlsConnectionError,
    ValueError,
)


def short_reason(err):
    """``timed out``, ``connection refused``, ...: not ``[Errno 111] Connection refused``."""
    reason = getattr(err, "reason", None) or err
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
