#!/usr/bin/python3
"""A loopback HTTP file server with Range support for the dataset fetch test.
Usage: range-server.py DIR PORT [BREAK_AFTER_BYTES]
With BREAK_AFTER_BYTES, the first full-file answer is cut off after that many
bytes (the connection closes), so the client has to resume."""
import os, sys, http.server, socketserver

root, port = sys.argv[1], int(sys.argv[2])
break_after = int(sys.argv[3]) if len(sys.argv) > 3 else 0
state = {"broken": False}

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        sys.stderr.write("range-server: %s %s range=%s\n" % (self.command, self.path,
                                                              self.headers.get("Range")))
    def do_GET(self):
        path = os.path.join(root, os.path.basename(self.path))
        if not os.path.isfile(path):
            self.send_error(404); return
        data = open(path, "rb").read()
        start, status = 0, 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_response(416); self.send_header("Content-Length", "0"); self.end_headers(); return
            status = 206
        body = data[start:]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.end_headers()
        if break_after and not state["broken"] and status == 200:
            state["broken"] = True
            self.wfile.write(body[:break_after]); self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("127.0.0.1", port), H) as s:
    s.serve_forever()
