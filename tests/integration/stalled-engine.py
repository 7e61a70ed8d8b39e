#!/usr/bin/python3
"""A stalled Docker engine for the launcher tests: it accepts connections on a
unix socket and never answers them.
Usage: stalled-engine.py SOCKET [--ping]
With --ping, GET /_ping is answered (200, "OK", Api-Version 1.41) and every
other request is read and left without an answer, as an engine that hangs
after the handshake does. Runs until killed."""
import os, socket, sys, threading

path = sys.argv[1]
answer_ping = "--ping" in sys.argv[2:]
held = []          # connections kept open, unanswered

def serve(conn):
    data = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except OSError:
            return
        if not chunk:
            return
        data += chunk
        while b"\r\n\r\n" in data:
            head, data = data.split(b"\r\n\r\n", 1)
            line = head.split(b"\r\n", 1)[0]
            if answer_ping and line.startswith(b"GET /_ping "):
                conn.sendall(b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n"
                             b"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK")
            # anything else: read, never answered

if os.path.exists(path):
    os.unlink(path)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(64)
while True:
    c, _ = srv.accept()
    held.append(c)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
