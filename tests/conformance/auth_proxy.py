#!/usr/bin/env python3
"""Test-only reverse proxy that adds a bearer token in front of the MCP endpoint.

Why it exists: the MCP conformance suite (`@modelcontextprotocol/conformance`)
sends no Authorization header and has no option to send one, while every
request to our /mcp endpoint must carry a bearer token (401 otherwise). This
proxy plays the part of an authenticated client: it forwards each request to
the server unchanged, adding `Authorization: Bearer <token>`, and relays the
answer back. It lets the suite test the protocol behaviour behind the auth
layer; the auth layer itself is tested elsewhere (Rust tests, Python SDK tests).

What "unchanged" means here, because the dns-rebinding-protection scenario
depends on it: method, path, query, body and every end-to-end header go through
as received, including the original Host and Origin headers. The server, not
the proxy, must be the one that refuses `Host: evil.example.com`. Only
hop-by-hop headers (RFC 9110 section 7.6.1) are dropped, and any Authorization
header the client sent is replaced.

Responses are read to their end (Content-Length, chunked, or connection close),
so a `text/event-stream` body that ends is relayed whole; it is buffered, not
streamed, which is enough for a stateless server that answers with JSON.

Never deploy this: it hands a token to anyone who can reach its port. It binds
127.0.0.1 only.

Usage (the token comes from the environment, not argv, so it stays out of `ps`):

    AUTH_PROXY_TOKEN=... python3 auth_proxy.py --upstream http://127.0.0.1:PORT [--port 0]

It prints `auth proxy listening on http://127.0.0.1:PORT` on stdout once it
accepts connections, and runs until killed. Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Connection-level headers that must not be forwarded by a proxy.
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade",
}
UPSTREAM_TIMEOUT_S = 60


def make_handler(upstream_host: str, upstream_port: int, token: str, verbose: bool) -> type[BaseHTTPRequestHandler]:
    class ProxyHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive towards the client; every answer carries Content-Length

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
            if verbose:
                sys.stderr.write("auth-proxy: " + (format % args) + "\n")

        def read_request_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                body = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return bytes(body)
                    body += self.rfile.read(size)
                    self.rfile.readline()  # CRLF after each chunk
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def forward(self) -> None:
            body = self.read_request_body()
            connection_tokens = {
                t.strip().lower() for t in self.headers.get("Connection", "").split(",") if t.strip()
            }
            upstream = http.client.HTTPConnection(upstream_host, upstream_port, timeout=UPSTREAM_TIMEOUT_S)
            try:
                # skip_host / skip_accept_encoding: send the client's own Host (and nothing it did not send).
                upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                sent_host = False
                for name, value in self.headers.items():
                    lower = name.lower()
                    if lower in HOP_BY_HOP or lower in connection_tokens or lower in ("authorization", "content-length"):
                        continue
                    sent_host |= lower == "host"
                    upstream.putheader(name, value)
                if not sent_host:  # an HTTP/1.0 client may omit Host; then name the upstream
                    upstream.putheader("Host", f"{upstream_host}:{upstream_port}")
                upstream.putheader("Authorization", f"Bearer {token}")
                if body or self.command in ("POST", "PUT", "PATCH"):
                    upstream.putheader("Content-Length", str(len(body)))
                upstream.endheaders(body or None)
                response = upstream.getresponse()
                payload = response.read()  # to Content-Length, end of chunks, or close
            except (OSError, http.client.HTTPException) as error:
                self.reply_error(502, f"auth proxy: upstream {upstream_host}:{upstream_port} failed: {error}")
                return
            finally:
                upstream.close()

            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() in HOP_BY_HOP or name.lower() == "content-length":
                    continue
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            self.log_request(response.status, len(payload))

        def reply_error(self, status: int, message: str) -> None:
            data = message.encode()
            self.send_response_only(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            sys.stderr.write(message + "\n")

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = forward

    return ProxyHandler


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # A client dropping an idle keep-alive connection is normal, not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main() -> int:
    parser = argparse.ArgumentParser(description="Test-only proxy adding a bearer token to every request.")
    parser.add_argument("--upstream", required=True, help="server origin, e.g. http://127.0.0.1:8787 (path ignored)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on, 127.0.0.1 only (default: a free one)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args()

    token = os.environ.get("AUTH_PROXY_TOKEN", "").strip()
    if not token:
        parser.error("set AUTH_PROXY_TOKEN to the bearer token to add")
    upstream = urllib.parse.urlsplit(args.upstream)
    if upstream.scheme != "http" or not upstream.hostname:
        parser.error(f"--upstream must be an http:// URL, got {args.upstream!r}")

    handler = make_handler(upstream.hostname, upstream.port or 80, token, args.verbose)
    server = ProxyServer(("127.0.0.1", args.port), handler)
    print(f"auth proxy listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
