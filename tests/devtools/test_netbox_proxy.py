"""The fault-injecting NetBox proxy (devtools/netbox_proxy.py) in front of a small recording upstream: what
it forwards, what each rule does (answers an error without forwarding, forwards and drops the answer,
hangs up, delays, stalls), how often, and its control endpoint. One test goes through to the real NetBox."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from devtools.netbox_proxy import NetBoxProxy, Rule


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.received: list[tuple[str, str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON (and a 201 for a POST), keeping a record."""

    protocol_version = "HTTP/1.1"
    server: _Upstream

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.received.append((self.command, self.path, body, dict(self.headers.items())))
        answer = json.dumps(
            {"method": self.command, "path": self.path, "body": body.decode(), "host": self.headers["Host"]}
        ).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "yes")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_OPTIONS = _any

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def proxy(upstream: _Upstream) -> Iterator[NetBoxProxy]:
    host, port = upstream.server_address[:2]
    with NetBoxProxy(f"http://{host}:{port}") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(proxy: NetBoxProxy, upstream: _Upstream) -> None:
    proxy.reset()
    with upstream.lock:
        upstream.received.clear()


def received(upstream: _Upstream) -> list[tuple[str, str]]:
    with upstream.lock:
        return [(method, path) for method, path, _, _ in upstream.received]


def test_it_forwards_method_path_query_body_and_headers_and_answers_with_netbox_s_answer(
    proxy: NetBoxProxy, upstream: _Upstream
) -> None:
    response = requests.post(
        f"{proxy.url}/api/dcim/devices/?brief=1",
        json=[{"name": "a"}],
        headers={"Authorization": "Token secret"},
        timeout=5,
    )
    assert response.status_code == 201 and response.headers["X-Upstream"] == "yes"
    assert response.json()["body"] == '[{"name": "a"}]'
    # the Host header is kept: NetBox's links (pagination's `next`) then point back through the proxy
    assert response.json()["host"] == proxy.url.removeprefix("http://")
    ((method, path, body, headers),) = upstream.received
    assert (method, path, body) == ("POST", "/api/dcim/devices/?brief=1", b'[{"name": "a"}]')
    assert headers["Authorization"] == "Token secret"
    assert [(s.method, s.target, s.action, s.status) for s in proxy.seen()] == [
        ("POST", "/api/dcim/devices/?brief=1", "forward", 201)
    ]


def test_an_error_rule_answers_without_forwarding_as_many_times_as_it_says(
    proxy: NetBoxProxy, upstream: _Upstream
) -> None:
    rule = proxy.add_rule("GET", r"/api/dcim/devices/\?.*serial=X", status=502, times=2)
    statuses = [
        requests.get(f"{proxy.url}/api/dcim/devices/?serial=X1", timeout=5).status_code for _ in range(3)
    ]
    other = requests.get(f"{proxy.url}/api/dcim/devices/?name=X", timeout=5)

    assert statuses == [502, 502, 200] and other.status_code == 200
    assert received(upstream) == [
        ("GET", "/api/dcim/devices/?serial=X1"),
        ("GET", "/api/dcim/devices/?name=X"),
    ]
    assert rule.hits == 2 and rule.spent
    assert [s.action for s in proxy.seen("GET", "serial=")] == ["error", "error", "forward"]
    assert proxy.count("GET", "serial=") == 3


def test_a_rule_matches_method_and_body_and_skip_lets_the_first_ones_through(
    proxy: NetBoxProxy, upstream: _Upstream
) -> None:
    rule = proxy.add_rule("POST", r"^/api/dcim/devices/$", body=r'"virtual_chassis"', skip=1, times=None)
    plain = requests.post(f"{proxy.url}/api/dcim/devices/", json=[{"name": "a"}], timeout=5)
    first = requests.post(f"{proxy.url}/api/dcim/devices/", json=[{"virtual_chassis": 1}], timeout=5)
    then = [
        requests.post(f"{proxy.url}/api/dcim/devices/", json=[{"virtual_chassis": 1}], timeout=5).status_code
        for _ in range(2)
    ]
    patch = requests.patch(f"{proxy.url}/api/dcim/devices/", json=[{"virtual_chassis": 1}], timeout=5)

    assert (plain.status_code, first.status_code, then, patch.status_code) == (201, 201, [500, 500], 200)
    assert rule.seen == 3 and rule.hits == 2 and not rule.spent
    assert len(received(upstream)) == 3


def test_drop_forwards_then_closes_the_connection_so_the_client_never_sees_the_answer(
    proxy: NetBoxProxy, upstream: _Upstream
) -> None:
    proxy.add_rule("POST", r"/api/dcim/virtual-chassis/", action="drop")
    with requests.Session() as session:
        with pytest.raises(requests.ConnectionError):
            session.post(f"{proxy.url}/api/dcim/virtual-chassis/", json={"name": "vc"}, timeout=5)
        again = session.post(f"{proxy.url}/api/dcim/virtual-chassis/", json={"name": "vc"}, timeout=5)
    assert again.status_code == 201
    # NetBox got both: the first one "committed" although the client saw only a dropped connection
    assert received(upstream) == [("POST", "/api/dcim/virtual-chassis/")] * 2
    assert [(s.action, s.status) for s in proxy.seen("POST")] == [("drop", 201), ("forward", 201)]


def test_reset_hangs_up_without_forwarding(proxy: NetBoxProxy, upstream: _Upstream) -> None:
    proxy.add_rule("*", r"/api/", action="reset")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{proxy.url}/api/status/", timeout=5)
    assert received(upstream) == []


def test_delay_waits_before_forwarding_and_stall_holds_the_answer_past_a_read_timeout(
    proxy: NetBoxProxy, upstream: _Upstream
) -> None:
    proxy.add_rule("GET", r"/api/slow/", action="delay", delay=0.4)
    started = time.monotonic()
    assert requests.get(f"{proxy.url}/api/slow/", timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.4

    proxy.add_rule("POST", r"/api/stalled/", action="stall", delay=1.5)
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{proxy.url}/api/stalled/", json={}, timeout=0.5)
    assert ("POST", "/api/stalled/") in received(upstream)  # forwarded before the client gave up


def test_rules_and_the_log_over_the_control_endpoint(proxy: NetBoxProxy, upstream: _Upstream) -> None:
    added = requests.post(
        f"{proxy.url}/_proxy/rules", json={"method": "patch", "path": "/api/x/", "status": 503}, timeout=5
    )
    assert added.status_code == 201 and added.json()["method"] == "PATCH"
    assert requests.patch(f"{proxy.url}/api/x/", json={}, timeout=5).status_code == 503
    rules = requests.get(f"{proxy.url}/_proxy/rules", timeout=5).json()
    assert [(r["path"], r["hits"]) for r in rules] == [("/api/x/", 1)]
    log = requests.get(f"{proxy.url}/_proxy/log", timeout=5).json()
    assert log == [{"method": "PATCH", "target": "/api/x/", "action": "error", "status": 0}]
    bad = requests.post(f"{proxy.url}/_proxy/rules", json={"method": "GET", "path": "(", "x": 1}, timeout=5)
    assert bad.status_code == 400
    assert requests.delete(f"{proxy.url}/_proxy/rules", timeout=5).json() == []
    assert requests.delete(f"{proxy.url}/_proxy/log", timeout=5).json() == []
    assert proxy.rules() == [] and proxy.seen() == []
    assert received(upstream) == []  # the control endpoint is the proxy's own


def test_a_rule_refuses_unknown_actions_and_bad_regexes() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        Rule("GET", "/api/", action="explode")
    with pytest.raises(re.error):
        Rule("GET", "(")


def test_through_the_proxy_to_the_real_netbox(stack_env: dict[str, str]) -> None:
    """Pagination's links come back through the proxy, and a rule fails a real call."""
    import pynetbox

    with NetBoxProxy(stack_env["NETBOX_URL"]) as real:
        api = pynetbox.api(real.url, token=stack_env["NETBOX_TOKEN"])
        tags = list(api.extras.tags.filter(limit=1))  # one page of one: the rest through `next`
        assert all(str(tag.url).startswith(real.url) for tag in tags)
        assert real.count("GET", r"/api/extras/tags/") >= min(2, max(1, len(tags)))
        real.add_rule("GET", r"/api/status/", status=500)
        with pytest.raises(pynetbox.RequestError) as failed:
            api.status()
        assert failed.value.req.status_code == 500
        assert api.status()["netbox-version"]
