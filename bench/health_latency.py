#!/usr/bin/env python3
"""From a track batch's acknowledgement to the account's new health in the API, or
(with --task PLAYBOOK) to the task that playbook makes readable in the API.

Run by bench/ingest_wrk.sh next to the load: every INTERVAL seconds it sends one
batch of track calls from USERS users new to a probe account (one the load never
touches), dated on the day of the account's latest health snapshot (the day live
refreshes score), and from the moment tend acknowledges it polls
GET /api/v1/accounts/{id} until the account's health snapshot differs from the one
before (more active users than the imported usage counted change its measures). Prints p50/p99/max of that latency and how many probes saw
no new snapshot within TIMEOUT seconds.

    bench/health_latency.py URL WRITE_KEY API_TOKEN FIRST_PROBE LAST_PROBE SECONDS [--task PLAYBOOK]

With --task, each probe account is used once (its task stays open), so the range
must hold as many accounts as probes are sent, and a batch carries enough new users
to lift the account's 30-day active users above 1.5 times its seats in force (the
probe playbook's trigger); an account that would need more than MAX_USERS is skipped.
"""

import base64
import json
import sys
import time
import urllib.request

INTERVAL = 0.5
TIMEOUT = 10.0
POLL = 0.005
USERS = 60
MAX_USERS = 1000


def call(url, headers, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def seats_in_force(picture, day):
    """Seats of the account's contracts in force on `day` (ISO dates compare as text)."""
    return sum(
        c["seats"] for c in picture["contracts"]
        if c["start_date"] <= day < c["end_date"]
    )


def main():
    base, key, token, first, last, seconds = sys.argv[1:7]
    task = sys.argv[8] if len(sys.argv) > 8 and sys.argv[7] == "--task" else None
    first, last, seconds = int(first), int(last), float(seconds)
    write = {
        "authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        "content-type": "application/json",
    }
    read = {"authorization": f"Bearer {token}"}
    latencies, missed, n = [], 0, 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        account = f"ACC-{first + n % (last - first + 1):05d}"
        n += 1
        if task and n > last - first + 1:
            break
        picture = f"{base}/api/v1/accounts/{account}"
        shown = call(picture, read)
        health = shown["health"]
        if health is None:
            continue  # a churned account has no health to refresh
        users = USERS
        if task:
            users = max(USERS, int(1.6 * seats_in_force(shown, health["day"])) + 10)
            if users > MAX_USERS:
                continue  # more new users than one probe batch should carry
        before = json.dumps(health, sort_keys=True)
        tasks = f"{base}/api/v1/tasks?scope=all&account={account}&playbook={task}"
        batch = {"batch": [{
            "type": "track", "event": "Report Run", "messageId": f"probe-{n}-{u}",
            "userId": f"probe-user-{n}-{u}", "context": {"groupId": account},
            "timestamp": f"{health['day']}T12:00:00Z",
        } for u in range(users)]}
        call(f"{base}/v1/batch", write, batch)
        acknowledged = time.perf_counter()
        while True:
            if task:
                changed = bool(call(tasks, read)["items"])
            else:
                changed = json.dumps(call(picture, read)["health"], sort_keys=True) != before
            waited = time.perf_counter() - acknowledged
            if changed:
                latencies.append(waited)
                break
            if waited > TIMEOUT:
                missed += 1
                break
            time.sleep(POLL)
        time.sleep(INTERVAL)
    latencies.sort()
    what = f"its {task} task" if task else "new health"
    if not latencies:
        print(f"ack to {what}: no probe saw it ({missed} missed)")
        return
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(
        f"ack to {what}: {len(latencies)} probes, p50 {pick(0.5):.0f} ms, "
        f"p99 {pick(0.99):.0f} ms, max {latencies[-1] * 1000:.0f} ms, "
        f"{missed} without it within {TIMEOUT:.0f} s"
    )


if __name__ == "__main__":
    main()
