"""Sends calls to tend serve with Segment's official Python SDK
(segment-analytics-python), for tools/sdk_clients.sh.

Environment: TEND_URL, TEND_WRITE_KEY, TEND_ACCOUNTS (comma-separated account ids),
TEND_PREFIX (prefix of every user and messageId sent).
"""

import os
import sys

from segment.analytics import Client

url = os.environ["TEND_URL"]
key = os.environ["TEND_WRITE_KEY"]
accounts = os.environ["TEND_ACCOUNTS"].split(",")
prefix = os.environ["TEND_PREFIX"]
errors = []


def client():
    return Client(key, host=url, on_error=lambda e, batch: errors.append(e), max_retries=3)


def tracks(analytics, first, last):
    for i in range(first, last):
        analytics.track(
            f"{prefix}-u{i % 10}",
            "Report Run",
            {"rows": i},
            context={"groupId": accounts[i % len(accounts)]},
            message_id=f"{prefix}-m{i}",
        )


analytics = client()
tracks(analytics, 0, 200)
# A user no account is known for yet: kept, then attached by the group call.
for i in range(5):
    analytics.track(f"{prefix}-late", "Report Run", {"rows": i}, message_id=f"{prefix}-late-{i}")
analytics.flush()
analytics.group(f"{prefix}-late", accounts[0], {"name": "ignored"}, message_id=f"{prefix}-group")
analytics.identify(f"{prefix}-late", {"plan": "pro"}, message_id=f"{prefix}-identify")
analytics.flush()
# A retry of calls already sent, with their messageIds, from a client of its own.
retry = client()
tracks(retry, 0, 50)
retry.flush()
if errors:
    sys.exit(f"the SDK reported errors: {errors}")
print("python: sent 257 calls, 50 of them twice")
