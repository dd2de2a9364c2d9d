#!/usr/bin/env python3
"""Webhooks into a receiver that verifies them with the `standardwebhooks` library.

A demo store gets a subscription for account.updated; accounts are edited through
the API in rounds, each round's changes handled before the next. The receiver
answers 503 (it is down) through the first half of the rounds, while tend is
restarted (SIGTERM) with deliveries waiting, then to a few more requests; then it
recovers. Checked: every
delivery in tend's log was accepted exactly once, each account's events arrived in
the order tend made them, and every request carried a valid signature.

    python3 tools/webhook_receiver.py [--accounts 5] [--rounds 4] [--failures 3]

Needs `standardwebhooks` in $TEND_CI_VENV (.ci/run installs it); the script runs
itself under that virtualenv's Python.
"""

import argparse
import http.server
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = pathlib.Path(
    os.environ.get("TEND_CI_VENV")
    or pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    / "tend-ci"
    / "venv"
)

try:
    import standardwebhooks
except ImportError:
    python = VENV / "bin" / "python"
    if python.exists() and pathlib.Path(sys.executable) != python:
        os.execv(python, [str(python), *sys.argv])
    sys.exit(f"standardwebhooks is not installed (looked in {VENV})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """Verifies every request; refuses with 503 while `down`, then `failures` more."""

    def __init__(self, failures):
        self.secret = None
        self.down = True
        self.failures = failures
        self.lock = threading.Lock()
        self.accepted = []  # (webhook-id, event) in the order accepted
        self.refused = 0
        self.bad_signatures = 0

    def handle(self, headers, body):
        with self.lock:
            try:
                event = standardwebhooks.Webhook(self.secret).verify(body, headers)
            except Exception as error:  # the library raises its own WebhookVerificationError
                self.bad_signatures += 1
                print(f"bad signature: {error}", file=sys.stderr)
                return 400
            if self.down or self.failures > 0:
                if not self.down:
                    self.failures -= 1
                self.refused += 1
                return 503
            self.accepted.append((headers["webhook-id"], event))
            return 204


def serve_receiver(receiver, port):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver.handle(headers, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Tend:
    def __init__(self, binary, env, work):
        self.binary, self.env, self.work = binary, env, work
        self.process = None
        self.port = None

    def start(self):
        self.port = free_port()
        log = open(self.work / "serve.log", "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--webhook-first-retry", "0.1"],
            env=self.env,
            stdout=log,
            stderr=log,
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url("/readyz"), timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("tend serve did not start; see serve.log")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        if self.process.wait(timeout=30) != 0:
            sys.exit(f"tend serve exited with {self.process.returncode}")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def call(self, method, path, token, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url(path), data=data, method=method)
        request.add_header("authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None


def wait_for(what, check, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    sys.exit(f"timed out waiting until {what}")


def queue_empty(tend, token):
    request = urllib.request.Request(tend.url("/metrics"))
    request.add_header("authorization", f"Bearer {token}")
    text = urllib.request.urlopen(request, timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith("tend_change_queue_waiting "):
            return float(line.split()[1]) == 0
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--failures", type=int, default=3)
    args = parser.parse_args()

    subprocess.run(["cargo", "build", "-q", "-p", "tend"], cwd=ROOT, check=True)
    binary = str(ROOT / "target" / "debug" / "tend")
    work = pathlib.Path(tempfile.mkdtemp(prefix="tend-webhooks-"))
    env = dict(os.environ, TEND_DATABASE_URL=f"sqlite:{work / 'hooks.db'}", TEND_LOG="warn")
    run = lambda *a: subprocess.run([binary, *a], env=env, check=True, capture_output=True, text=True)
    run("demo", "--accounts", "20", "--months", "3", "--health-days", "1")
    token = run("token", "create", "webhook test", "--role", "admin").stdout.strip()

    receiver = Receiver(args.failures)
    receiver_port = free_port()
    serve_receiver(receiver, receiver_port)
    tend = Tend(binary, env, work)
    tend.start()
    wait_for("the demo's changes are handled", lambda: queue_empty(tend, token))
    created = tend.call(
        "POST",
        "/api/v1/webhooks",
        token,
        {"url": f"http://127.0.0.1:{receiver_port}/hook", "event_types": ["account.updated"]},
    )
    receiver.secret = created["secret"]
    webhook = created["webhook"]["id"]
    accounts = [a["account"]["id"] for a in tend.call("GET", f"/api/v1/accounts?limit={args.accounts}", token)["items"]]

    def log():
        page = tend.call("GET", f"/api/v1/webhooks/{webhook}/deliveries?limit=500", token)
        return list(reversed(page["items"]))

    waiting_at_restart = 0
    for round in range(args.rounds):
        for account in accounts:
            tend.call("PATCH", f"/api/v1/accounts/{account}", token, {"tier": f"tier-{round}"})
        wait_for(f"round {round} is handled", lambda: queue_empty(tend, token))
        if round == args.rounds // 2 - 1:
            # Deliveries wait on the receiver that is down; tend stops and starts again.
            waiting_at_restart = sum(1 for d in log() if d["status"] == "pending")
            tend.stop()
            tend.start()
            receiver.down = False

    wait_for("every delivery is delivered", lambda: all(d["status"] == "delivered" for d in log()))
    deliveries = log()
    tend.stop()

    accepted_ids = [i for i, _ in receiver.accepted]
    expected = args.accounts * args.rounds
    failed = []
    if len(deliveries) != expected:
        failed.append(f"{len(deliveries)} deliveries in the log, expected {expected}")
    if sorted(accepted_ids) != sorted(d["message_id"] for d in deliveries):
        failed.append("the accepted events are not the log's")
    if len(set(accepted_ids)) != len(accepted_ids):
        failed.append(f"{len(accepted_ids) - len(set(accepted_ids))} events were accepted twice")
    for account in accounts:
        made = [d["message_id"] for d in deliveries if d["account_id"] == account]
        got = [i for i, e in receiver.accepted if e["data"]["account_id"] == account]
        if made != got:
            failed.append(f"{account}: received {got}, made {made}")
    if receiver.bad_signatures:
        failed.append(f"{receiver.bad_signatures} requests had a bad signature")
    if waiting_at_restart < args.accounts * (args.rounds // 2):
        failed.append(f"only {waiting_at_restart} deliveries waited when tend restarted")
    retried = sum(1 for d in deliveries if d["attempts"] > 1)
    print(
        f"webhooks: {len(deliveries)} events, {len(accepted_ids)} accepted once each, "
        f"{receiver.refused} refused while the receiver was down, {retried} retried, "
        f"1 restart of tend with {waiting_at_restart} waiting, {receiver.bad_signatures} bad signatures"
    )
    if failed:
        sys.exit("webhook test failed:\n  " + "\n  ".join(failed))


if __name__ == "__main__":
    main()
