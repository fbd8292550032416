"""oaimock driven by a client written by others: Python's httpx.

Run: /usr/bin/python3 httpx_client_test.py PATH/TO/oaimock
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import httpx

OAIMOCK = sys.argv.pop(1) if len(sys.argv) > 1 else "build/mock_server/oaimock"


class OaimockWithHttpx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        port_file = os.path.join(cls.tmp.name, "port")
        cls.proc = subprocess.Popen(
            [OAIMOCK, "--responses", "429@0.2,400:context_length_exceeded", "--port-file", port_file],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if time.monotonic() > deadline or cls.proc.poll() is not None:
                raise RuntimeError("oaimock did not start")
            time.sleep(0.01)
        with open(port_file) as f:
            cls.base = "http://127.0.0.1:%d" % int(f.read())

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        try:
            code = cls.proc.wait(timeout=10)
        finally:
            cls.proc.kill()
            cls.tmp.cleanup()
        assert code == 0, "oaimock exited %r on SIGTERM" % code

    def client(self, token):
        return httpx.Client(base_url=self.base + "/v1", timeout=10,
                            headers={"Authorization": "Bearer " + token})

    def chat(self, client, key, **extra):
        body = {"model": "gpt-test", "messages": [{"role": "user", "content": "hello [xph:%s]" % key}]}
        body.update(extra)
        return client.post("/chat/completions", json=body)

    def test_429_then_400_exactly_as_scripted(self):
        with self.client("contract") as c:
            r = self.chat(c, "p#0")
            self.assertEqual(r.status_code, 429)
            self.assertEqual(r.json(), {"error": {"message": "xph: scripted 429 for p#0 (request 0)",
                                                  "type": "requests", "param": None, "code": None}})
            self.assertEqual(r.headers["retry-after"], "1")
            self.assertEqual(r.headers["retry-after-ms"], "200")
            self.assertEqual(r.headers["x-ratelimit-remaining-requests"], "0")
            self.assertTrue(r.headers["x-request-id"].startswith("req_"))
            r2 = self.chat(c, "p#0")
            self.assertEqual(r2.status_code, 400)
            self.assertEqual(r2.json()["error"]["code"], "context_length_exceeded")
            self.assertEqual(r2.json()["error"]["type"], "invalid_request_error")
            self.assertNotEqual(r.headers["x-request-id"], r2.headers["x-request-id"])

    def test_retry_after_a_429_honours_retry_after_ms(self):
        httpx.put(self.base + "/_xph/tenants/retry", json={"*": "429@0.15,200"}).raise_for_status()
        with self.client("retry") as c:
            started = time.monotonic()
            for attempt in range(3):
                r = self.chat(c, "r#0", n=3)
                if r.status_code != 429:
                    break
                time.sleep(int(r.headers["retry-after-ms"]) / 1000)
            self.assertEqual(attempt, 1)
            self.assertGreaterEqual(time.monotonic() - started, 0.15)
            self.assertEqual(r.status_code, 200)
            contents = [ch["message"]["content"] for ch in r.json()["choices"]]
            self.assertEqual(contents, ["xph:r#0:r1:c0", "xph:r#0:r1:c1", "xph:r#0:r1:c2"])
        journal = httpx.get(self.base + "/_xph/journal", params={"tenant": "retry"}).json()
        self.assertEqual([e["status"] for e in journal], [429, 200])
        self.assertGreaterEqual(journal[1]["t_ms"] - journal[0]["t_ms"], 150)

    def test_streamed_n_choices_end_with_done(self):
        httpx.put(self.base + "/_xph/tenants/stream", json={"*": "200"}).raise_for_status()
        with self.client("stream") as c:
            body = {"model": "m", "stream": True, "n": 2,
                    "messages": [{"role": "user", "content": "[xph:s#0]"}]}
            with c.stream("POST", "/chat/completions", json=body) as r:
                self.assertEqual(r.headers["content-type"], "text/event-stream")
                # httpx 0.23 keeps the newline on each line; later versions strip it.
                data = [line.rstrip("\r\n")[6:] for line in r.iter_lines() if line.startswith("data: ")]
        self.assertEqual(data[-1], "[DONE]")
        text = {}
        for event in data[:-1]:
            choice = json.loads(event)["choices"][0]
            text[choice["index"]] = text.get(choice["index"], "") + choice["delta"].get("content", "")
        self.assertEqual(text, {0: "xph:s#0:r0:c0", 1: "xph:s#0:r0:c1"})

    def test_reset_is_a_connection_error_for_httpx(self):
        httpx.put(self.base + "/_xph/tenants/faulty", json={"*": "reset,200"}).raise_for_status()
        with self.client("faulty") as c:
            with self.assertRaises(httpx.TransportError):
                self.chat(c, "x#0")
            self.assertEqual(self.chat(c, "x#0").status_code, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
