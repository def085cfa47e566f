"""A minimal client for Prometheus queries.

The analysis needs two things from Prometheus: the value of a PromQL expression at an
instant, and its samples over a range (for the baseline judge). This client does only
that, through ``open_url`` so it inherits Ansible's TLS, client certificate, proxy and
CA handling, and turns every way a query can go wrong into a specific exception.
Callers decide what an error means; the client never guesses a value.
"""

import http.client
import json
import urllib.error
import urllib.parse

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

QUERY_PATH = "/api/v1/query"
RANGE_PATH = "/api/v1/query_range"
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
    """Queries against one Prometheus server.

    ``url`` is the server's base URL (a path prefix such as ``/prometheus`` is kept).
    ``timeout`` bounds each query twice: Prometheus is asked to give up after it, and
    the connection waits no longer than it. Authentication is a bearer token or basic
    auth (username and password), optionally with a client certificate; ``ca_path``
    names the CA bundle that signed the server's certificate.
    """

    def __init__(
        self,
        url,
        timeout=5,
        validate_certs=True,
        ca_path=None,
        client_cert=None,
        client_key=None,
        bearer_token=None,
        username=None,
        password=None,
    ):
        self.base = url.rstrip("/")
        # Messages end up in the ledger and in job output: never with credentials.
        self.shown_url = _without_userinfo(self.base)
        self.timeout = timeout
        self.tls = {
            "validate_certs": validate_certs,
            "ca_path": ca_path,
            "client_cert": client_cert,
            "client_key": client_key,
        }
        self.headers = {"Accept": "application/json"}
        if bearer_token:
            self.headers["Authorization"] = f"Bearer {bearer_token}"
        self.basic = {"url_username": username, "url_password": password} if username else {}

    @classmethod
    def from_settings(cls, settings):
        """A client from the validated ``prometheus`` section of an analysis."""
        names = ("ca_path", "client_cert", "client_key", "bearer_token", "username", "password")
        return cls(
            settings["url"],
            settings["timeout"],
            settings["validate_certs"],
            **{name: settings.get(name) for name in names},
        )

    def query(self, promql, at=None):
        """Evaluate ``promql`` at unix time ``at`` (server's now when None).

        Returns the API's ``data`` member: ``{"resultType": ..., "result": ...}``.
        Raises a ``PrometheusError`` subclass when there is no such result.
        """
        params = {"query": promql, "timeout": f"{self.timeout:g}"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self._get(QUERY_PATH, params)

    def query_range(self, promql, start, end, step):
        """Evaluate ``promql`` every ``step`` seconds from ``start`` to ``end`` (unix times)."""
        params = {
            "query": promql,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{step:g}",
            "timeout": f"{self.timeout:g}",
        }
        return self._get(RANGE_PATH, params)

    def _get(self, path, params):
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        shown = self.shown_url + path
        try:
            with open_url(
                url,
                method="GET",
                headers=self.headers,
                timeout=self.timeout,
                http_agent=USER_AGENT,
                force_basic_auth=bool(self.basic),
                **self.basic,
                **self.tls,
            ) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise PrometheusHTTPError(exc.code, _http_error_message(exc)) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timeout(shown) from exc
            raise PrometheusUnreachable(f"{shown}: {exc.reason}") from exc
        except TimeoutError as exc:
            raise self._timeout(shown) from exc
        except http.client.HTTPException as exc:
            raise PrometheusBadResponse(f"{shown}: {exc!r}") from exc
        except (UrlsConnectionError, OSError) as exc:
            raise PrometheusUnreachable(f"{shown}: {exc}") from exc
        return _parse_body(body)

    def _timeout(self, shown):
        return PrometheusTimeout(f"{shown}: no answer within {self.timeout:g}s")


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


def series_values(data):
    """The sample values of a range query's one series, in time order ([] when empty).

    Raises ``PrometheusError`` for several series or a result that is not a range.
    """
    kind, result = data["resultType"], data["result"]
    if kind != "matrix":
        raise PrometheusError(f"range query returned a {kind}, not a range vector")
    if not result:
        return []
    if len(result) > 1:
        labels = "; ".join(_format_labels(series.get("metric", {})) for series in result[:5])
        raise PrometheusError(
            f"query returned {len(result)} series ({labels}); aggregate it to a single series"
        )
    return [_sample_float(sample) for sample in result[0].get("values") or []]


def _sample_float(sample):
    """Parse a ``[timestamp, "value"]`` pair; Prometheus spells NaN and ±Inf as strings."""
    try:
        return float(sample[1])
    except (TypeError, ValueError, IndexError) as exc:
        raise PrometheusBadResponse(f"malformed sample {sample!r}") from exc


def _format_labels(metric):
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items())) + "}"
