#!/usr/bin/env python3
# broken-engine.py: a unix socket that behaves like a broken Docker engine,
# for the error paths only (a stalled engine cannot be made from a real one
# on demand). Never a stand-in for a working engine: every mode is broken.
#   broken-engine.py SOCKET MODE
#   silent      accepts connections and never answers
#   ping-stall  answers GET /_ping like an engine, then stalls on everything else
#   garbage     answers every request with bytes that are not HTTP
#   malformed   /_ping answers, then every JSON answer is malformed
#   http500     /_ping answers, then every call is an HTTP 500 {"message": ...}
#   hangup      /_ping answers, then closes every other connection without a word
import os
import socket
import sys
import threading

path, mode = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(64)
held = []  # stalled connections stay open


def answer(conn, status, body, ctype="application/json"):
    head = ("HTTP/1.1 %s\r\nApi-Version: 1.41\r\nContent-Type: %s\r\n"
            "Content-Length: %d\r\n\r\n" % (status, ctype, len(body)))
    conn.sendall(head.encode() + body)


def serve(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            conn.close()
            return
        data += chunk
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    is_ping = " /_ping " in line
    if mode == "silent":
        held.append(conn)
        return
    if mode == "garbage":
        conn.sendall(b"this is not an engine\n")
        conn.close()
        return
    if is_ping:
        answer(conn, "200 OK", b"OK", "text/plain")
        conn.close()
        return
    if mode == "ping-stall":
        held.append(conn)
        return
    if mode == "malformed":
        answer(conn, "200 OK", b'{"Version": "20.10", "ApiVersion": ')
    elif mode == "http500":
        answer(conn, "500 Internal Server Error",
               b'{"message": "error while creating mount source path: read-only file system"}')
    elif mode == "hangup":
        pass
    conn.close()


while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
