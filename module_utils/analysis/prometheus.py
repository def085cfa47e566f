"""A minimal client for Prometheus instant queries.

The analysis needs one thing from Prometheus: the value of a PromQL expression at an
instant. This client does only that, through ``open_url`` so it inherits Ansible's TLS,
proxy and CA handling, and turns every way a query can go wrong into a specific
exception. Callers decide what an error means; the client never guesses a value.
"""

import http.client
import json
import urllib.error
import urllib.parse

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

QUERY_PATH = "/api/v1/query"
USER_AGENT = "canary-analysis"


class PrometheusError(Exception):
    """A query could not produce a usable result."""


def _without_userinfo(url):
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


class PrometheusUnreachable(PrometheusError):
    """No HTTP exchange happened: refused, DNS failure, TLS failure, reset."""


class PrometheusTimeout(PrometheusError):
    """Prometheus did not answer within the client timeout."""


class PrometheusHTTPError(PrometheusError):
    """Prometheus answered with a non-2xx status; ``message`` is its own explanation."""

    def __init__(self, status, message):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class PrometheusBadResponse(PrometheusError):
    """The answer was not the JSON document the Prometheus API promises."""


class PrometheusQueryError(PrometheusError):
    """Prometheus reported ``status: error`` (bad query, execution error, timeout)."""

    def __init__(self, error_type, message):
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class PrometheusClient:
    """Instant queries against one Prometheus server.

    ``url`` is the server's base URL (a path prefix such as ``/prometheus`` is kept).
    ``timeout`` bounds each query twice: Prometheus is asked to give up after it, and
    the connection waits no longer than it.
    """

    def __init__(self, url, timeout=5, validate_certs=True):
        self.url = url.rstrip("/") + QUERY_PATH
        # Messages end up in the ledger and in job output: never with credentials.
        self.shown_url = _without_userinfo(self.url)
        self.timeout = timeout
        self.validate_certs = validate_certs

    def query(self, promql, at=None):
        """Evaluate ``promql`` at unix time ``at`` (server's now when None).

        Returns the API's ``data`` member: ``{"resultType": ..., "result": ...}``.
        Raises a ``PrometheusError`` subclass when there is no such result.
        """
        params = {"query": promql, "timeout": f"{self.timeout:g}"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        url = f"{self.url}?{urllib.parse.urlencode(params)}"
        try:
            with open_url(
                url,
                method="GET",
                headers={"Accept": "application/json"},
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                http_agent=USER_AGENT,
            ) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise PrometheusHTTPError(exc.code, _http_error_message(exc)) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timeout() from exc
            raise PrometheusUnreachable(f"{self.shown_url}: {exc.reason}") from exc
        except TimeoutError as exc:
            raise self._timeout() from exc
        except http.client.HTTPException as exc:
            raise PrometheusBadResponse(f"{self.shown_url}: {exc!r}") from exc
        except (UrlsConnectionError, OSError) as exc:
            raise PrometheusUnreachable(f"{self.shown_url}: {exc}") from exc
        return _parse_body(body)

    def _timeout(self):
        return PrometheusTimeout(f"{self.shown_url}: no answer within {self.timeout:g}s")


def _http_error_message(exc):
    """Prometheus explains 4xx/5xx answers in a JSON body; fall back to the reason."""
    try:
        document = json.loads(exc.read())
        return f"{document['errorType']}: {document['error']}"
    except (OSError, ValueError, TypeError, KeyError):
        return str(exc.reason)


def _parse_body(body):
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise PrometheusBadResponse(f"response is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise PrometheusBadResponse("response is not a JSON object")
    if document.get("status") == "error":
        raise PrometheusQueryError(document.get("errorType", "error"), document.get("error", ""))
    data = document.get("data")
    if document.get("status") != "success" or not isinstance(data, dict):
        raise PrometheusBadResponse("response has no status 'success' with a data object")
    if data.get("resultType") not in ("vector", "scalar", "matrix", "string"):
        raise PrometheusBadResponse(f"unknown resultType {data.get('resultType')!r}")
    return data


def single_value(data):
    """Reduce a query result to the one number a check judges.

    Returns a float (NaN and infinities included, as Prometheus sends them) or None for
    an empty vector. Raises ``PrometheusError`` for results a threshold cannot apply to:
    several series, a range vector, a string.
    """
    kind, result = data["resultType"], data["result"]
    if kind == "scalar":
        return _sample_float(result)
    if kind == "vector":
        if not result:
            return None
        if len(result) > 1:
            labels = "; ".join(_format_labels(series.get("metric", {})) for series in result[:5])
            more = f" and {len(result) - 5} more" if len(result) > 5 else ""
            raise PrometheusError(
                f"query returned {len(result)} series ({labels}{more}); "
                "aggregate it to a single series, e.g. with sum()"
            )
        return _sample_float(result[0].get("value"))
    if kind == "matrix":
        raise PrometheusError("query returned a range vector; apply a function such as rate()")
    raise PrometheusError(f"query returned a string ({result!r}), not a number")


def _sample_float(sample):
    """Parse a ``[timestamp, "value"]`` pair; Prometheus spells NaN and ±Inf as strings."""
    try:
        return float(sample[1])
    except (TypeError, ValueError, IndexError) as exc:
        raise PrometheusBadResponse(f"malformed sample {sample!r}") from exc


def _format_labels(metric):
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items())) + "}"
