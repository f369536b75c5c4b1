"""Real local servers for messaging tests (reusable by other suites, e.g. e2e).

``SmtpServer``: aiosmtpd on 127.0.0.1 collecting every message it receives.
``HttpGateway``: http.server in a thread standing in for an SMS gateway (or any HTTP
endpoint); ``respond`` decides the answer, ``requests`` records what came in.
"""

import email
import email.policy
import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: email.message.EmailMessage
    peer: tuple = ()  # the client's (host, port): one per SMTP connection


class _Collector:
    def __init__(self):
        self.messages: list[ReceivedMail] = []
        self.arrived = threading.Condition()
        self.refuse: set[str] = set()  # recipients answered "550"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        with self.arrived:
            self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw,
                                              parsed, tuple(session.peer or ())))
            self.arrived.notify_all()
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An SMTP server on 127.0.0.1 (random port); ``messages`` holds what it received."""

    def __init__(self):
        self._collector = _Collector()
        self.host = "127.0.0.1"
        self.port = _free_port()
        self._controller = Controller(self._collector, hostname=self.host, port=self.port)

    def start(self) -> "SmtpServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[ReceivedMail]:
        return self._collector.messages

    @property
    def refuse(self) -> set[str]:
        return self._collector.refuse

    @refuse.setter
    def refuse(self, addresses) -> None:
        self._collector.refuse = set(addresses)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        with self._collector.arrived:
            self._collector.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages


@dataclass
class GatewayRequest:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    @property
    def form(self) -> dict:
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body.decode()).items()}

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def params(self) -> dict:
        """Query, form or JSON parameters, whichever the request carried."""
        if self.method == "GET":
            return self.query
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return self.json
        return self.form


@dataclass
class HttpGateway:
    """An HTTP server on 127.0.0.1; ``respond(request) -> (status, body)`` is swappable."""

    respond: object = None
    requests: list[GatewayRequest] = field(default_factory=list)

    def start(self) -> "HttpGateway":
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                parsed = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                req = GatewayRequest(
                    self.command, parsed.path,
                    {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()},
                    dict(self.headers.items()), self.rfile.read(length) if length else b"",
                )
                gateway.requests.append(req)
                status, body = (gateway.respond or (lambda r: (200, "OK")))(req)
                data = body if isinstance(body, bytes) else (
                    body.encode() if isinstance(body, str) else json.dumps(body).encode())
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle  # noqa: N815 - http.server API

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
