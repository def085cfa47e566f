"""The Prometheus client against a local fake server: every way a query can end."""

import base64
import time

import pytest
from ansible.module_utils.analysis.prometheus import (
    PrometheusBadResponse,
    PrometheusClient,
    PrometheusError,
    PrometheusHTTPError,
    PrometheusQueryError,
    PrometheusTimeout,
    PrometheusUnreachable,
    series_values,
    single_value,
)


def success(result_type, result):
    return {"status": "success", "data": {"resultType": result_type, "result": result}}


def test_success_returns_data_and_sends_query_time_and_timeout(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "0.25")
    data = PrometheusClient(url + "/", timeout=2.5).query('up{job="x"}', at=1700000000.5)
    assert data == {"resultType": "vector", "result": [{"metric": {}, "value": [1.0, "0.25"]}]}
    assert fake_prometheus.requests == [
        {
            "path": "/prom/api/v1/query",
            "authorization": None,
            "query": 'up{job="x"}',
            "time": "1700000000.500",
            "timeout": "2.5",
        }
    ]


def test_without_time_prometheus_picks_now(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "1")
    PrometheusClient(url).query("up")
    assert "time" not in fake_prometheus.requests[0]


def test_status_error_carries_error_type_and_message(fake_prometheus):
    url = fake_prometheus.respond(
        "prom", {"status": "error", "errorType": "execution", "error": "too many samples"}
    )
    with pytest.raises(PrometheusQueryError) as caught:
        PrometheusClient(url).query("up")
    assert caught.value.error_type == "execution"
    assert str(caught.value) == "execution: too many samples"


def test_bad_query_is_an_http_error_with_prometheus_message(fake_prometheus):
    body = {
        "status": "error",
        "errorType": "bad_data",
        "error": "parse error: unclosed left parenthesis",
    }
    url = fake_prometheus.respond("prom", body, status=400)
    with pytest.raises(PrometheusHTTPError) as caught:
        PrometheusClient(url).query("sum(rate(x[1m])")
    assert caught.value.status == 400
    assert str(caught.value) == "HTTP 400: bad_data: parse error: unclosed left parenthesis"


def test_http_500_without_json_body_falls_back_to_the_reason(fake_prometheus):
    url = fake_prometheus.respond("prom", "upstream exploded", status=500)
    with pytest.raises(PrometheusHTTPError) as caught:
        PrometheusClient(url).query("up")
    assert caught.value.status == 500
    assert str(caught.value) == "HTTP 500: Internal Server Error"


def test_invalid_json_is_a_bad_response(fake_prometheus):
    url = fake_prometheus.respond("prom", "<html>not prometheus</html>")
    with pytest.raises(PrometheusBadResponse, match="not JSON"):
        PrometheusClient(url).query("up")


@pytest.mark.parametrize(
    "body",
    [
        ["success"],
        {"status": "success"},
        {"status": "success", "data": {"resultType": "histogram", "result": []}},
    ],
)
def test_unexpected_documents_are_bad_responses(fake_prometheus, body):
    url = fake_prometheus.respond("prom", body)
    with pytest.raises(PrometheusBadResponse):
        PrometheusClient(url).query("up")


def test_answer_slower_than_the_timeout_is_a_timeout(fake_prometheus):
    url = fake_prometheus.respond("prom", success("vector", []), delay=2.0)
    started = time.monotonic()
    with pytest.raises(PrometheusTimeout, match=r"no answer within 0\.3s"):
        PrometheusClient(url, timeout=0.3).query("up")
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_unreachable(refused_url):
    with pytest.raises(PrometheusUnreachable, match="Connection refused"):
        PrometheusClient(refused_url).query("up")


def test_certificates_are_verified_by_default(fake_prometheus_tls):
    url = fake_prometheus_tls.respond_vector("prom", "1")
    with pytest.raises(PrometheusUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
        PrometheusClient(url).query("up")
    assert fake_prometheus_tls.requests == []


def test_certificate_checks_can_be_turned_off(fake_prometheus_tls):
    url = fake_prometheus_tls.respond_vector("prom", "1")
    assert single_value(PrometheusClient(url, validate_certs=False).query("up")) == 1.0


def test_unknown_path_is_an_http_error(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "1").replace("/prom", "/elsewhere")
    with pytest.raises(PrometheusHTTPError, match="HTTP 404"):
        PrometheusClient(url).query("up")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (success("vector", [{"metric": {}, "value": [1, "0.031"]}]), 0.031),
        (success("scalar", [1, "2.5"]), 2.5),
        (success("vector", [{"metric": {"track": "canary"}, "value": [1, "+Inf"]}]), float("inf")),
        (success("vector", [{"metric": {}, "value": [1, "-Inf"]}]), float("-inf")),
        (success("vector", []), None),
    ],
)
def test_single_value(data, expected):
    assert single_value(data["data"]) == expected


def test_single_value_keeps_nan():
    value = single_value(success("scalar", [1, "NaN"])["data"])
    assert value != value


def test_several_series_are_an_error_naming_their_labels():
    data = success(
        "vector",
        [
            {"metric": {"code": "500", "track": "canary"}, "value": [1, "1"]},
            {"metric": {"code": "503", "track": "canary"}, "value": [1, "2"]},
        ],
    )["data"]
    with pytest.raises(PrometheusError) as caught:
        single_value(data)
    assert str(caught.value) == (
        'query returned 2 series ({code="500", track="canary"}; {code="503", track="canary"}); '
        "aggregate it to a single series, e.g. with sum()"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (success("matrix", [{"metric": {}, "values": [[1, "1"]]}]), "range vector"),
        (success("string", [1, "hello"]), "string"),
        (success("vector", [{"metric": {}, "value": [1, "many"]}]), "malformed sample"),
    ],
)
def test_results_a_threshold_cannot_apply_to(data, message):
    with pytest.raises(PrometheusError, match=message):
        single_value(data["data"])


def test_messages_never_show_credentials_of_the_url():
    client = PrometheusClient("http://user:secret@127.0.0.1:1", timeout=0.5)
    with pytest.raises(PrometheusUnreachable) as raised:
        client.query("up")
    assert "secret" not in str(raised.value) and "127.0.0.1:1" in str(raised.value)


def test_bearer_token_is_sent_as_an_authorization_header(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "1")
    PrometheusClient(url, bearer_token="s3cret").query("up")
    assert fake_prometheus.requests[0]["authorization"] == "Bearer s3cret"


def test_basic_auth_is_sent_without_waiting_for_a_challenge(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "1")
    PrometheusClient(url, username="ops", password="p4ss").query("up")
    expected = "Basic " + base64.b64encode(b"ops:p4ss").decode()
    assert fake_prometheus.requests[0]["authorization"] == expected


def test_no_credentials_no_authorization_header(fake_prometheus):
    url = fake_prometheus.respond_vector("prom", "1")
    PrometheusClient(url).query("up")
    assert fake_prometheus.requests[0]["authorization"] is None


def test_a_private_ca_and_a_client_certificate(fake_prometheus_mtls, pki):
    url = fake_prometheus_mtls.respond_vector("prom", "1")
    client = PrometheusClient(
        url, ca_path=pki["ca"], client_cert=pki["client"], client_key=pki["client_key"]
    )
    assert single_value(client.query("up")) == 1.0


def test_the_server_certificate_must_chain_to_the_given_ca(fake_prometheus_tls, pki):
    url = fake_prometheus_tls.respond_vector("prom", "1")
    with pytest.raises(PrometheusUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
        PrometheusClient(url, ca_path=pki["ca"]).query("up")


def test_without_the_client_certificate_mutual_tls_fails(fake_prometheus_mtls, pki):
    url = fake_prometheus_mtls.respond_vector("prom", "1")
    with pytest.raises(PrometheusError):
        PrometheusClient(url, ca_path=pki["ca"]).query("up")
    assert fake_prometheus_mtls.requests == []


def test_range_query_returns_the_samples_of_one_series(fake_prometheus):
    values = [[1700000000 + i, str(i / 10)] for i in range(5)]
    url = fake_prometheus.respond(
        "prom",
        {
            "status": "success",
            "data": {"resultType": "matrix", "result": [{"metric": {}, "values": values}]},
        },
    )
    data = PrometheusClient(url).query_range("rate(x[1m])", 1700000000, 1700000004, 1)
    assert series_values(data) == [0.0, 0.1, 0.2, 0.3, 0.4]
    sent = fake_prometheus.requests[0]
    assert sent["path"].endswith("/api/v1/query_range")
    assert (sent["start"], sent["end"], sent["step"]) == ("1700000000.000", "1700000004.000", "1")


def test_range_query_without_series_has_no_samples():
    assert series_values({"resultType": "matrix", "result": []}) == []


def test_range_query_with_several_series_is_an_error():
    data = {"resultType": "matrix", "result": [{"metric": {"a": "1"}, "values": []}] * 2}
    with pytest.raises(PrometheusError, match="2 series"):
        series_values(data)
