"""oaimock under hostile clients, as the real binary: it stays up, keeps
answering a well-behaved client, and its journal loses nothing.

Run: /usr/bin/python3 hostile_clients_test.py PATH/TO/oaimock
Latency of the well-behaved client is printed, not asserted (speed belongs to
scripts/bench-*); a stall of 5 s or more is a liveness failure.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

OAIMOCK = sys.argv.pop(1) if len(sys.argv) > 1 else "build/mock_server/oaimock"


def chat(key):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "[xph:%s]" % key}]})
    return ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (len(body), body)).encode()


class HostileClients(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.journal = os.path.join(self.tmp.name, "journal.jsonl")
        port_file = os.path.join(self.tmp.name, "port")
        self.proc = subprocess.Popen([OAIMOCK, "--journal", self.journal, "--port-file", port_file],
                                     stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            self.assertIsNone(self.proc.poll(), "oaimock died at start")
            self.assertLess(time.monotonic(), deadline, "oaimock did not start")
            time.sleep(0.01)
        self.port = int(open(port_file).read())
        self.stop = threading.Event()
        self.latencies, self.failures = [], []

    def tearDown(self):
        self.stop.set()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.assertEqual(self.proc.wait(timeout=15), 0, "oaimock did not exit 0 on SIGTERM")
        finally:
            self.proc.kill()
            self.tmp.cleanup()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return s

    def good_client(self):
        """A well-behaved client asking all along; every answer must come."""
        i = 0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    s.sendall(chat("good#%d" % i))
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                if not data.startswith(b"HTTP/1.1 200"):
                    self.failures.append("request %d: %r" % (i, data[:80]))
            except OSError as e:
                self.failures.append("request %d: %s" % (i, e))
            self.latencies.append(time.monotonic() - started)
            i += 1
            time.sleep(0.01)

    def send_and_drop(self, payload, read=True):
        try:
            s = self.connect()
            s.sendall(payload)
            if read:
                s.settimeout(2)
                try:
                    s.recv(4096)
                except OSError:
                    pass
            s.close()
        except OSError:
            pass  # the server may refuse or reset hostile input; it must not die

    def test_server_survives_hostile_clients_and_journals_every_good_request(self):
        good = threading.Thread(target=self.good_client)
        good.start()
        hostile = [
            b"GARBAGE\r\n\r\n",
            b"GET " + b"/x" * 10000 + b" HTTP/1.1\r\n\r\n",
            b"GET /v1/models HTTP/1.1\r\n" + b"X-Big: " + b"a" * 100000 + b"\r\n\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 10485760\r\n\r\n" + b"{" * 10485760,
            b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4\r\n{\"mo\r\nzz\r\n",
            b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 9\r\n\r\n\xff\xfe\xc3\x28{}\x80\x81",
            b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 99\r\n\r\n{\"model\":",
            b"\x00\x01\x02\x03" * 1000,
        ]
        for payload in hostile:
            self.send_and_drop(payload)
        # Slowloris: 100 connections dribbling a header each.
        slow = []
        for _ in range(100):
            try:
                s = self.connect()
                s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
                slow.append(s)
            except OSError:
                pass
        for _ in range(3):
            time.sleep(0.3)
            for s in slow:
                try:
                    s.sendall(b"X-A: b\r\n")
                except OSError:
                    pass
        for s in slow:
            s.close()
        # 1000 connections opened and dropped at once (RST).
        for _ in range(1000):
            try:
                self.connect().close()
            except OSError:
                pass
        time.sleep(0.5)
        self.stop.set()
        good.join()

        self.assertIsNone(self.proc.poll(), "oaimock died")
        self.assertEqual(self.failures, [])
        lat = sorted(self.latencies)
        print("well-behaved client: %d requests, p50 %.1f ms, p99 %.1f ms, max %.1f ms"
              % (len(lat), 1000 * lat[len(lat) // 2], 1000 * lat[int(len(lat) * 0.99)], 1000 * lat[-1]))
        self.assertLess(lat[-1], 5.0, "a well-behaved request stalled")
        # The journal, flushed at SIGTERM, holds every good request.
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=15), 0)
        with open(self.journal) as f:
            good_entries = [e for e in map(json.loads, f) if e["tenant"] == "good"]
        self.assertEqual(sorted(e["key"] for e in good_entries),
                         sorted("good#%d" % i for i in range(len(self.latencies))))


if __name__ == "__main__":
    unittest.main(verbosity=2)
