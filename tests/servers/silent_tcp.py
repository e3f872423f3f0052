#!/usr/bin/env python3
"""silent_tcp.py [--greet TEXT] - a TCP server on 127.0.0.1 that accepts
and never answers (or sends TEXT once and then says nothing): a TLS
handshake to it times out, or fails on a plain-text greeting. Prints its
port on the first line of stdout."""
import socket, sys
greet = None
if len(sys.argv) == 3 and sys.argv[1] == "--greet":
    greet = sys.argv[2].encode() + b"\r\n"
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    if greet:
        c.sendall(greet)
    held.append(c)
