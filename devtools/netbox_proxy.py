"""A fault-injecting HTTP proxy for NetBox, standard library only: the importer's tests put it between the
product and the real test NetBox and make chosen requests fail the ways a network and a busy NetBox do.

Each request is matched against the rules in order (method, a regex on the path with its query string,
optionally a regex on the body); the first rule that matches and still has uses left decides:

- ``error``: answer ``status`` (500, 502, …) without forwarding: NetBox never sees the request;
- ``drop``: forward, read NetBox's answer, then close the connection without a byte of it: the client sees
  a dropped connection, but NetBox did the work (a POST committed!);
- ``reset``: close the connection without forwarding (a request lost on the way), after ``delay`` seconds
  (a test kills the client meanwhile: a process killed just before this write);
- ``delay``: wait ``delay`` seconds, then forward and answer;
- ``stall``: forward, then hold NetBox's answer for ``delay`` seconds before sending it (a client with a
  shorter read timeout gives up although NetBox committed).

``times`` is how many matching requests a rule acts on (None: every one); ``skip`` lets that many matching
requests through first. Every request is logged (method, path with query, what was done, NetBox's status)
and each rule counts its hits.

From a test::

    with NetBoxProxy("http://127.0.0.1:8010") as proxy:
        proxy.add_rule("GET", r"/api/dcim/devices/\\?.*serial=", status=500, times=1)
        settings = ... NETBOX_URL=proxy.url ...
        assert proxy.count("GET", r"serial=") == 2

Unauthenticated control endpoints, never under ``/api``: ``GET|POST|DELETE /_proxy/rules`` (list, add one
rule as a JSON object with the fields of :class:`Rule`, remove all) and ``GET|DELETE /_proxy/log``.

Usage: ``python -m devtools.netbox_proxy --upstream http://127.0.0.1:8010 --port 8011``. Request bodies and
headers (the token!) are never logged.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

ACTIONS = ("error", "drop", "reset", "delay", "stall")
CONTROL_PREFIX = "/_proxy"
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
UPSTREAM_TIMEOUT = 300.0


@dataclasses.dataclass
class Rule:
    """What to do to the requests that match: `method` ("*" for any), `path` (regex searched in the path
    with its query string), `body` (regex searched in the request body, "" for any)."""

    method: str
    path: str
    action: str = "error"
    status: int = 500
    times: int | None = 1  # how many matching requests it acts on; None: every one
    skip: int = 0  # matching requests let through untouched first
    delay: float = 0.0
    body: str = ""
    hits: int = 0  # matching requests it acted on
    seen: int = 0  # matching requests, acted on or let through

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}: one of {', '.join(ACTIONS)}")
        if not 100 <= int(self.status) <= 599:
            raise ValueError("status must be an HTTP status")
        if (self.times is not None and self.times < 0) or self.skip < 0 or self.delay < 0:
            raise ValueError("times, skip and delay must not be negative")
        re.compile(self.path)
        re.compile(self.body)
        self.method = self.method.upper()

    def matches(self, method: str, target: str, body: bytes) -> bool:
        if self.method not in ("*", method.upper()) or not re.search(self.path, target):
            return False
        return not self.body or re.search(self.body, body.decode("utf-8", errors="replace")) is not None

    @property
    def spent(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Seen:
    """One request the proxy received: method, path with query, what it did, NetBox's status (0: none)."""

    method: str
    target: str
    action: str  # "forward" or a rule's action
    status: int


class _State:
    """Rules and the log, shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: list[Rule] = []
        self.log: list[Seen] = []

    def decide(self, method: str, target: str, body: bytes) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.spent or not rule.matches(method, target, body):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    return None
                rule.hits += 1
                return dataclasses.replace(rule)
        return None

    def record(self, seen: Seen) -> None:
        with self.lock:
            self.log.append(seen)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], upstream: str, state: _State) -> None:
        super().__init__(address, _Handler)
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the upstream must be an http:// URL, not {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.state = state


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.path
        if urlsplit(target).path.startswith(CONTROL_PREFIX):
            self._control(urlsplit(target).path, body)
            return
        state = self.server.state
        rule = state.decide(self.command, target, body)
        action = rule.action if rule else "forward"
        if rule is not None and rule.action == "error":
            state.record(Seen(self.command, target, action, 0))
            self._answer(rule.status, _error_body(rule.status), [("Content-Type", "application/json")])
            return
        if rule is not None and rule.action == "reset":
            state.record(Seen(self.command, target, action, 0))
            time.sleep(rule.delay)  # a client killed meanwhile never sent it: NetBox never sees it
            self._hang_up()
            return
        if rule is not None and rule.action == "delay":
            time.sleep(rule.delay)
        try:
            status, headers, payload = self._forward(body)
        except OSError:
            state.record(Seen(self.command, target, "upstream unreachable", 0))
            self._answer(
                502, b'{"detail": "proxy: NetBox cannot be reached"}', [("Content-Type", "application/json")]
            )
            return
        state.record(Seen(self.command, target, action, status))
        if rule is not None and rule.action == "drop":
            self._hang_up()
            return
        if rule is not None and rule.action == "stall":
            time.sleep(rule.delay)
        try:
            self._answer(status, payload, headers)
        except OSError:  # the client gave up waiting (a stalled answer)
            self.close_connection = True

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """The request as NetBox gets it (Host kept, so NetBox's links point back through the proxy)."""
        conn = http.client.HTTPConnection(
            self.server.upstream_host, self.server.upstream_port, timeout=UPSTREAM_TIMEOUT
        )
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, payload
        finally:
            conn.close()

    def _answer(self, status: int, payload: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def _hang_up(self) -> None:
        """Close the connection without a byte of answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _control(self, path: str, body: bytes) -> None:
        state = self.server.state
        status, payload = 200, None
        try:
            match self.command, path:
                case "GET", "/_proxy/rules":
                    with state.lock:
                        payload = [rule.as_dict() for rule in state.rules]
                case "POST", "/_proxy/rules":
                    fields = json.loads(body or b"{}")
                    fields.pop("hits", None)
                    fields.pop("seen", None)
                    rule = Rule(**fields)
                    with state.lock:
                        state.rules.append(rule)
                    status, payload = 201, rule.as_dict()
                case "DELETE", "/_proxy/rules":
                    with state.lock:
                        state.rules.clear()
                    payload = []
                case "GET", "/_proxy/log":
                    with state.lock:
                        payload = [dataclasses.asdict(seen) for seen in state.log]
                case "DELETE", "/_proxy/log":
                    with state.lock:
                        state.log.clear()
                    payload = []
                case _:
                    status, payload = 404, {"detail": f"no control endpoint {self.command} {path}"}
        except (TypeError, ValueError, re.error) as exc:
            status, payload = 400, {"detail": str(exc)}
        self._answer(status, json.dumps(payload).encode(), [("Content-Type", "application/json")])

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the log instead
        pass


def _error_body(status: int) -> bytes:
    return json.dumps({"detail": f"proxy: injected {status}"}).encode()


class NetBoxProxy:
    """The proxy on a daemon thread; `url` is what to give the product as NETBOX_URL."""

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self._state = _State()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> NetBoxProxy:
        if self._server is None:
            self._server = _Server(self._address, self.upstream, self._state)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="netbox-proxy",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> NetBoxProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # rules

    def add_rule(self, method: str, path: str, action: str = "error", **fields: Any) -> Rule:
        """Add a rule (after the others); returns it: its `hits` and `seen` count as requests come."""
        rule = Rule(method, path, action, **fields)
        with self._state.lock:
            self._state.rules.append(rule)
        return rule

    def clear_rules(self) -> None:
        with self._state.lock:
            self._state.rules.clear()

    def rules(self) -> list[Rule]:
        with self._state.lock:
            return list(self._state.rules)

    # what it saw

    def seen(self, method: str = "*", path: str = "") -> list[Seen]:
        """The requests received (oldest first), those of this method and path regex only."""
        with self._state.lock:
            log = list(self._state.log)
        return [s for s in log if method.upper() in ("*", s.method) and re.search(path, s.target)]

    def count(self, method: str = "*", path: str = "") -> int:
        return len(self.seen(method, path))

    def clear_log(self) -> None:
        with self._state.lock:
            self._state.log.clear()

    def reset(self) -> None:
        """No rules, empty log."""
        self.clear_rules()
        self.clear_log()


# --------------------------------------------------------------------------- CLI


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.netbox_proxy", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--upstream", required=True, help="NetBox's URL, e.g. http://127.0.0.1:8010")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with NetBoxProxy(args.upstream, args.host, args.port) as proxy:
        print(f"NetBox proxy on {proxy.url} -> {proxy.upstream}", flush=True)
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
