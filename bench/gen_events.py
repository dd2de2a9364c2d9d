#!/usr/bin/env python3
"""Writes a Segment-spec JSON Lines file of product usage events for benchmarks.

Usage: gen_events.py OUT.jsonl [EVENTS] [ACCOUNTS] [SEED]

Events are in time order, as exports and replays deliver them, spread over 90 days,
across ACCOUNTS demo accounts (ACC-00001, …), with
10 to 200 users per account, six features, realistic properties and context, and
about 1% of calls repeated (as Segment retries do) to exercise deduplication.
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

out = sys.argv[1]
events = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
accounts = int(sys.argv[3]) if len(sys.argv) > 3 else 500
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)

features = ["Dashboard Viewed", "Report Exported", "Alert Created", "Integration Connected", "Data Exported", "Workflow Run"]
users = [rng.randint(10, 200) for _ in range(accounts)]
start = datetime(2026, 8, 1, tzinfo=timezone.utc)
span = 90 * 86400

with open(out, "w") as f:
    previous = None
    for i in range(events):
        if previous is not None and rng.random() < 0.01:
            f.write(previous)
            continue
        a = rng.randrange(accounts)
        ts = start + timedelta(milliseconds=(i * span * 1000) // events + rng.randrange(1000))
        call = {
            "type": "track",
            "messageId": f"{rng.getrandbits(128):032x}",
            "userId": f"user-{a}-{rng.randrange(users[a])}",
            "event": rng.choice(features),
            "properties": {"plan": "pro", "duration_ms": rng.randrange(50, 5000)},
            "context": {"groupId": f"ACC-{a + 1:05d}", "library": {"name": "analytics.js", "version": "2.11.1"}},
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
        }
        previous = json.dumps(call, separators=(",", ":")) + "\n"
        f.write(previous)
