"""get_customer_context over MCP (streamable HTTP, the official Python SDK) on the
500-account demo portfolio: time per call and the size of the answer.

    bench/agent_context.sh        (builds, makes the store, serves, runs this)

Tokens are estimated two ways: bytes / 4 (the usual rate of BPE tokenizers on JSON)
and a count of words and punctuation marks (\\w+ or any other non-space character),
which counts more than any BPE tokenizer does on this text, so it is an upper bound.
"""

import asyncio
import json
import os
import re
import statistics
import time

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

URL = os.environ["TEND_URL"]
CALLS = int(os.environ.get("CALLS", "50"))


def client(token):
    headers = {"Authorization": f"Bearer {token}"}
    return Client(streamable_http_client(f"{URL}/mcp", http_client=create_mcp_http_client(headers=headers)))


async def measure(label, token, args):
    async with client(token) as c:
        await c.call_tool("get_customer_context", args)  # warm-up
        times = []
        for _ in range(CALLS):
            start = time.perf_counter()
            result = await c.call_tool("get_customer_context", args)
            times.append((time.perf_counter() - start) * 1000)
        assert not result.is_error, result
        text = json.dumps(result.structured_content, separators=(",", ":"))
        words = len(re.findall(r"\w+|[^\w\s]", text))
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"{label}: {result.structured_content.get('accounts', 1)} accounts, "
              f"p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms, max {times[-1]:.1f} ms; "
              f"{len(text):,} bytes of JSON, ~{len(text) // 4:,} tokens (bytes/4), "
              f"at most {words:,} (words and marks)")


async def main():
    await measure("whole portfolio (admin, owner *)", os.environ["TEND_TOKEN_ADMIN"], {"owner": "*"})
    await measure("whole portfolio, page of 100", os.environ["TEND_TOKEN_ADMIN"], {"owner": "*", "limit": 100})
    await measure("a CSM's book (csm token)", os.environ["TEND_TOKEN_CSM"], {})
    await measure("one account", os.environ["TEND_TOKEN_CSM"], {"account_id": os.environ["TEND_ACCOUNT"]})


asyncio.run(main())
