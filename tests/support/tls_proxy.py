#!/usr/bin/env python3
"""An HTTPS front for the tests' plain-HTTP stand-in Console.

Some clients only talk to an HTTPS server (kubectl sends user credentials only over TLS;
terraform's service discovery needs HTTPS), but the stand-in Console in console.rs speaks plain
HTTP. This script terminates TLS with a test certificate and forwards each request to that
backend, relaying the answer.

    python3 tls_proxy.py --cert CERT.pem --key KEY.pem --backend 127.0.0.1:PORT \
        [--static-json /.well-known/terraform.json=FILE ...]

It binds 127.0.0.1 on a free port and prints one line, `PORT <n>`, once it is listening.
`--static-json PATH=FILE` answers GET PATH (query ignored) with FILE's contents as
application/json, without asking the backend. It exits when its standard input reaches EOF, so
a test that drops its end of the child's stdin pipe stops it (run by hand, end it with Ctrl-D);
SIGTERM and SIGKILL end it too.

When the backend closes a connection without answering, the client's connection is closed
without an answer too, so the stand-in's faults look the same through this front. Standard
library only (Python 3.11).
"""

import argparse
import http.client
import http.server
import os
import ssl
import sys
import threading

# RFC 9110 section 7.6.1, plus what this hop handles itself: the length (recomputed) and
# Expect: 100-continue (answered by http.server).
HOP_BY_HOP = {
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}

BACKEND_TIMEOUT = 60  # seconds; only a guard, no test waits on it
CLIENT_TIMEOUT = 60


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cert", required=True, help="server certificate, PEM")
    parser.add_argument("--key", required=True, help="its private key, PEM")
    parser.add_argument("--backend", required=True, help="HOST:PORT of the plain-HTTP server")
    parser.add_argument(
        "--static-json",
        action="append",
        default=[],
        metavar="PATH=FILE",
        help="answer GET PATH with FILE as application/json (repeatable)",
    )
    args = parser.parse_args()
    host, sep, port = args.backend.rpartition(":")
    if not sep or not port.isdigit():
        parser.error("--backend must be HOST:PORT")
    args.backend = (host.strip("[]"), int(port))
    static = {}
    for item in args.static_json:
        path, sep, file = item.partition("=")
        if not sep or not path.startswith("/"):
            parser.error("--static-json must be /PATH=FILE")
        with open(file, "rb") as f:
            static[path] = f.read()
    args.static_json = static
    return args


def make_handler(backend, static):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = CLIENT_TIMEOUT

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

        def relay(self):
            path_only = self.path.split("?", 1)[0]
            if path_only in static and self.command in ("GET", "HEAD"):
                self.answer(200, "OK", [("Content-Type", "application/json")], static[path_only])
                return

            body = self.read_body()
            if body is None:
                self.close_connection = True
                return
            conn = http.client.HTTPConnection(*backend, timeout=BACKEND_TIMEOUT)
            try:
                conn.connect()
            except OSError as e:
                msg = f"tls_proxy: backend {backend[0]}:{backend[1]}: {e}\n".encode()
                self.answer(502, "Bad Gateway", [("Content-Type", "text/plain")], msg)
                return
            try:
                # The client's own Host header is passed on, so http.client must not add one.
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        conn.putheader(name, value)
                if body or self.command in ("POST", "PUT", "PATCH"):
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body or None)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException):
                # The backend hung up (or timed out) without a whole answer: do the same.
                self.close_connection = True
                return
            finally:
                conn.close()
            relayed = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            length = resp.getheader("Content-Length") if self.command == "HEAD" else None
            self.answer(resp.status, resp.reason, relayed, data, length)

        def read_body(self):
            """The request body (bytes), or None if it cannot be read."""
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while True:
                    line = self.rfile.readline(1024)
                    try:
                        size = int(line.split(b";", 1)[0].strip(), 16)
                    except ValueError:
                        return None
                    if size == 0:
                        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline(1024)
            length = self.headers.get("Content-Length", "0")
            if not length.isdigit():
                return None
            return self.rfile.read(int(length))

        def answer(self, status, reason, headers, body, length=None):
            self.send_response_only(status, reason)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", length if length is not None else str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = relay

    return Handler


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, context):
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        # Handshake in the connection's own thread, so a stalled client blocks only itself.
        request.settimeout(CLIENT_TIMEOUT)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except OSError:  # ssl.SSLError included: e.g. a client that does not trust the CA
            request.close()
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request, client_address):
        pass  # a client hanging up mid-request is not news


def exit_on_stdin_eof():
    try:
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        os._exit(0)


def main():
    args = parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = TLSServer(("127.0.0.1", 0), make_handler(args.backend, args.static_json), context)
    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
