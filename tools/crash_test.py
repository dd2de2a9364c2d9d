"""Crash test of live ingestion: clients send Segment batches to `tend serve`
continuously, retrying until acknowledged (as the SDKs do), while the server is
killed with SIGKILL at random moments and restarted. Afterwards every acknowledged
call must be stored exactly once, the daily rollups must equal a recomputation from
the raw events, and every queued account change must have been handled.

    python3 tools/crash_test.py [--kills 5] [--clients 4] [--tend target/debug/tend]

Only the standard library; prints the figures and exits 1 if any check fails.
"""

import argparse
import base64
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tend, env, port, log):
        self.tend, self.env, self.port, self.log = tend, env, port, log
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.tend, "serve", "--listen", f"127.0.0.1:{self.port}"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("tend serve did not become ready")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.terminate()
        self.process.wait()


def client(number, port, key, accounts, acknowledged, stop, counts):
    """Sends batches of 20 calls with fresh messageIds; a batch not acknowledged is
    sent again, unchanged, until it is."""
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    rng = random.Random(number)
    sequence = 0
    while not stop.is_set():
        sequence += 1
        ids = [f"c{number}-{sequence}-{i}" for i in range(20)]
        calls = [{"type": "track", "messageId": m, "userId": f"u{number}-{rng.randrange(5)}",
                  "event": "Report Run", "context": {"groupId": rng.choice(accounts)}}
                 for m in ids]
        body = json.dumps({"batch": calls}).encode()
        while True:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/batch", data=body, method="POST",
                headers={"content-type": "application/json", "authorization": auth})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    if answer.status == 200:
                        acknowledged.extend(ids)
                        break
            except (OSError, urllib.error.HTTPError):
                counts["retries"] += 1
                time.sleep(0.05)
            if stop.is_set() and counts["final"]:
                return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--tend", default="target/debug/tend")
    args = parser.parse_args()
    tend = os.path.abspath(args.tend)
    work = tempfile.mkdtemp()
    db = os.path.join(work, "crash.db")
    env = dict(os.environ, TEND_DATABASE_URL=f"sqlite:{db}", TEND_LOG="warn")
    subprocess.run([tend, "demo", "--accounts", "50", "--months", "3"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    key = subprocess.run([tend, "source", "create", "crash test"], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    accounts = [r[0] for r in sqlite3.connect(db).execute("SELECT id FROM accounts")]
    port = free_port()
    log = open(os.path.join(work, "serve.log"), "w")
    server = Server(tend, env, port, log)
    server.start()

    acknowledged, stop, counts = [], threading.Event(), {"retries": 0, "final": False}
    threads = [threading.Thread(target=client, daemon=True,
                                args=(n, port, key, accounts, acknowledged, stop, counts))
               for n in range(args.clients)]
    for t in threads:
        t.start()
    rng = random.Random(20261201)
    for _ in range(args.kills):
        time.sleep(rng.uniform(1.0, 3.0))
        server.kill()
        time.sleep(rng.uniform(0.1, 0.5))
        server.start()
    time.sleep(1.0)
    stop.set()
    counts["final"] = True
    for t in threads:
        t.join(timeout=30)
    # Let the queue of account changes drain, then stop cleanly.
    store = sqlite3.connect(db)
    waiting = None
    for _ in range(200):
        waiting = store.execute(
            "SELECT COUNT(*) FROM account_changes WHERE processed_at IS NULL").fetchone()[0]
        if waiting == 0:
            break
        time.sleep(0.1)
    server.stop()

    ours = "message_id LIKE 'c%-%-%'"
    stored = dict(store.execute(
        f"SELECT message_id, COUNT(*) FROM usage_events WHERE {ours} GROUP BY message_id"))
    lost = [m for m in acknowledged if m not in stored]
    duplicated = [m for m, n in stored.items() if n > 1]
    rollups = set(store.execute(
        "SELECT account_id, day, events, active_users FROM usage_event_daily "
        "WHERE (account_id, day) IN (SELECT DISTINCT account_id, day FROM usage_events)"))
    recomputed = set(store.execute(
        "SELECT account_id, day, COUNT(*), COUNT(DISTINCT COALESCE(user_id, anonymous_id)) "
        "FROM usage_events GROUP BY account_id, day"))
    wrong_rollups = rollups ^ recomputed
    print(f"kills {args.kills}, clients {args.clients}: {len(acknowledged)} calls acknowledged, "
          f"{len(stored)} stored, lost {len(lost)}, duplicated {len(duplicated)}, "
          f"retried requests {counts['retries']}, rollups differing from the raw events "
          f"{len(wrong_rollups)}, account changes left unhandled {waiting}")
    failed = lost or duplicated or wrong_rollups or waiting
    if failed:
        print("lost:", lost[:5], "duplicated:", duplicated[:5],
              "rollups:", sorted(wrong_rollups)[:5])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
