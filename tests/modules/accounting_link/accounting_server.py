"""A real local accounting endpoint (threaded http.server on 127.0.0.1) for the delivery tests.

It accepts each ``Idempotency-Key`` once (a repeat is answered 200 and counted as a
duplicate), records the order in which the entries of each document were accepted, checks
the HMAC signature, and can fail a share of the calls at random: a 500, a timeout (it
sleeps past the client's timeout, and half the time accepts the entry afterwards), a
connection dropped before accepting, or one dropped after accepting without answering.
"""

import json
import random
import socket
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core.webhooks.delivery import verify

FAULTS = ("error", "timeout", "drop_before", "drop_after")


class AccountingServer:
    def __init__(self, secret: str | None = None, fail_rate: float = 0.0, slow: float = 0.3,
                 seed: int = 8, status: int = 200):
        self.secret, self.fail_rate, self.slow, self.status = secret, fail_rate, slow, status
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted: dict[str, dict] = {}  # idempotency key -> entry
        self.order: dict[str, list[int]] = defaultdict(list)  # document -> entry ids
        self.duplicates = Counter()  # key -> repeats after acceptance
        self.faults = Counter()
        self.calls = 0
        self.pings: list[dict] = []
        self.bad_signatures = 0
        self.truncated = 0
        self.headers: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/peyvand/entries"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _accept(self, key: str, body: dict) -> bool:
        with self.lock:
            if key in self.accepted:
                self.duplicates[key] += 1
                return False
            entry = body["entry"]
            self.accepted[key] = entry
            document = f'{entry["document"]["type"]}:{entry["document"]["id"]}'
            self.order[document].append(entry["id"])
            return True

    def _fault(self) -> str | None:
        with self.lock:
            self.calls += 1
            if self.fail_rate and self.random.random() < self.fail_rate:
                fault = self.random.choice(FAULTS)
                accept_late = self.random.random() < 0.5
                self.faults[fault] += 1
                return fault if fault != "timeout" or not accept_late else "timeout_accept"
            return None

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _answer(self, status: int, text: bytes = b"ok") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender died mid-request: nothing to answer
                    with outer.lock:
                        outer.truncated += 1
                    self.close_connection = True
                    return
                if outer.secret is not None and not verify(
                        outer.secret, self.headers.get("X-Peyvand-Signature", ""),
                        self.headers.get("X-Peyvand-Timestamp", ""), raw):
                    with outer.lock:
                        outer.bad_signatures += 1
                    self._answer(401, b"bad signature")
                    return
                body = json.loads(raw)
                with outer.lock:
                    outer.headers.append(dict(self.headers))
                if body.get("type") == "ping":
                    with outer.lock:
                        outer.pings.append(body)
                    self._answer(outer.status)
                    return
                key = self.headers["Idempotency-Key"]
                fault = outer._fault()
                if fault == "error":
                    self._answer(500, b"boom")
                elif fault in ("timeout", "timeout_accept"):
                    time.sleep(outer.slow)
                    if fault == "timeout_accept":
                        outer._accept(key, body)
                    self.close_connection = True
                elif fault == "drop_before":
                    self.close_connection = True
                elif fault == "drop_after":
                    outer._accept(key, body)
                    self.close_connection = True
                else:
                    if outer.status < 300:
                        outer._accept(key, body)
                    self._answer(outer.status)

        return Handler
