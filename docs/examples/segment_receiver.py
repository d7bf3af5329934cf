#!/usr/bin/env python3
"""A push destination's segment API, as idex calls it (docs/exchange-api.md, "Push destinations").

Standard library only. Every request's Standard Webhooks signature is checked (401 otherwise); segments live in
memory; each file is streamed to ./received/<segment>/ while its HMAC is computed, so files of any size take constant
memory; a webhook-id already stored is acknowledged without being applied again (a file may arrive twice when the
exchange restarted while sending it).

    python3 segment_receiver.py --port 9100 --secret whsec_...
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300
DATA = re.compile(r"^/v1/segments/([^/]+)/data(/remove)?$")


class Store:
    def __init__(self, root):
        self.root = root
        self.lock = threading.Lock()
        self.segments = {}  # id -> {"name", "description", "attributes"}
        self.seen = set()   # webhook-ids of files applied

    def create(self, body):
        with self.lock:
            seg_id = str(len(self.segments) + 1)
            self.segments[seg_id] = body
            os.makedirs(os.path.join(self.root, seg_id), exist_ok=True)
            return seg_id


def make_handler(secret_key, store):
    class Handler(BaseHTTPRequestHandler):
        def signed_body_to(self, sink):
            """Reads the body into `sink` (a file or a list), checking the signature on the way; True if it holds."""
            msg_id = self.headers.get("webhook-id", "")
            stamp = self.headers.get("webhook-timestamp", "0")
            sigs = self.headers.get("webhook-signature", "")
            mac = hmac.new(secret_key, f"{msg_id}.{stamp}.".encode(), hashlib.sha256)
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                chunk = self.rfile.read(min(left, 64 * 1024))
                if not chunk:
                    return False
                left -= len(chunk)
                mac.update(chunk)
                sink(chunk)
            expected = base64.b64encode(mac.digest()).decode()
            fresh = abs(time.time() - int(stamp)) <= TOLERANCE_SECONDS
            return fresh and any(s.startswith("v1,") and hmac.compare_digest(s[3:], expected) for s in sigs.split())

        def answer(self, status, body=None):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if not self.signed_body_to(lambda c: None):
                return self.answer(401, {"error": "bad signature"})
            if self.path != "/v1/segments":
                return self.answer(404, {"error": "unknown path"})
            with store.lock:
                listed = [{"id": i, "name": s["name"]} for i, s in store.segments.items()]
            self.answer(200, listed)

        def do_PUT(self):
            self.do_POST()

        def do_POST(self):
            msg_id = self.headers.get("webhook-id", "")
            if self.path == "/v1/segments":
                parts = []
                if not self.signed_body_to(parts.append):
                    return self.answer(401, {"error": "bad signature"})
                return self.answer(201, {"id": store.create(json.loads(b"".join(parts)))})
            m = DATA.match(self.path)
            if not m or m.group(1) not in store.segments:
                return self.answer(404, {"error": "unknown segment"})
            kind = "remove" if m.group(2) else ("replace" if self.command == "PUT" else "add")
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", msg_id)
            part = os.path.join(store.root, m.group(1), f"{kind}-{safe}.part")
            with open(part, "wb") as out:
                ok = self.signed_body_to(out.write)
            if not ok:
                os.remove(part)
                return self.answer(401, {"error": "bad signature"})
            with store.lock:
                if msg_id in store.seen:
                    os.remove(part)  # a repeat of a file already applied: acknowledge, do not apply twice
                    return self.answer(200, {"duplicate": True})
                store.seen.add(msg_id)
            os.rename(part, part[:-len(".part")])  # the webhook-id ends in the file's .csv name
            print(f"{self.command} segment {m.group(1)} {kind}: {msg_id}", flush=True)
            self.answer(200, {})

        def log_message(self, fmt, *args):
            pass

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=9100)
    p.add_argument("--secret", required=True, help="the destination's signingSecret (whsec_...)")
    p.add_argument("--dir", default="received")
    args = p.parse_args()
    key = base64.b64decode(args.secret.removeprefix("whsec_"))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(key, Store(args.dir)))
    print(f"segment API on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
