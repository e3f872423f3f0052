#!/usr/bin/python3
"""A fake HTTP SMS gateway for the verifier's tests: records every request
as one JSON line {method, path, query, headers, body} in FILE and answers
STATUS with a small JSON body, DELAY seconds after it read the request (a
slow gateway; requests are served in parallel).
Usage: fake_sms_gateway.py PORT FILE [STATUS [DELAY]]     (127.0.0.1 only)"""
import json, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, out = int(sys.argv[1]), sys.argv[2]
status = int(sys.argv[3]) if len(sys.argv) > 3 else 201
delay = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0

class H(BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        u = urllib.parse.urlsplit(self.path)
        rec = {"method": self.command, "path": u.path,
               "query": urllib.parse.parse_qs(u.query),
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body}
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        if delay:
            time.sleep(delay)
        data = b'{"sid": "SM0"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = handle_one
    def log_message(self, *a):
        pass

ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
