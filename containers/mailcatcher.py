"""A stand-in for mailpit where no registry is reachable: an SMTP server on :1025 that keeps every
message it receives in memory, and the read side of mailpit's HTTP API on :8025, so whatever reads
a mailpit (a person with curl, the kit's tests) reads this the same way:

    GET /api/v1/messages      {"total": N, "messages": [{"ID", "From", "To", "Subject", ...}]}
    GET /api/v1/message/<ID>    the summary plus "Text" and "HTML"
    GET /livez                  200 once both servers listen

Debian's python3-aiosmtpd and the standard library only (containers/mailcatcher.Containerfile).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

MESSAGES: list[dict] = []
LOCK = threading.Lock()


def _addresses(header: str | None) -> list[dict[str, str]]:
    found = email.utils.getaddresses([header or ""])
    return [{"Name": name, "Address": address} for name, address in found if address]


class Keep:
    """aiosmtpd handler: parse and keep each message."""

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        with LOCK:
            MESSAGES.append(
                {
                    "ID": str(len(MESSAGES) + 1),
                    "From": (_addresses(message["From"]) or [{"Name": "", "Address": ""}])[0],
                    "To": _addresses(message["To"]) or _addresses(", ".join(envelope.rcpt_tos)),
                    "Subject": str(message["Subject"] or ""),
                    "Created": datetime.now(UTC).isoformat(),
                    "Text": text.get_content() if text is not None else "",
                    "HTML": html.get_content() if html is not None else "",
                }
            )
        return "250 Message accepted for delivery"


SUMMARY = ("ID", "From", "To", "Subject", "Created")


class Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        with LOCK:
            messages = list(MESSAGES)
        if self.path == "/livez":
            return self._send(200, {"ok": True})
        if self.path.rstrip("/") == "/api/v1/messages":
            # Newest first, as mailpit lists them.
            listed = [{k: m[k] for k in SUMMARY} for m in reversed(messages)]
            return self._send(200, {"total": len(listed), "messages": listed})
        if self.path.startswith("/api/v1/message/"):
            wanted = self.path.rsplit("/", 1)[-1]
            for message in messages:
                if message["ID"] == wanted:
                    return self._send(200, message)
        return self._send(404, {"error": f"not found: {self.path}"})

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass  # the health check asks every few seconds


def main() -> None:
    smtp = Controller(Keep(), hostname="0.0.0.0", port=1025)
    smtp.start()
    print("mailcatcher: SMTP on :1025, mailpit's API on :8025", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8025), Api).serve_forever()


if __name__ == "__main__":
    main()
