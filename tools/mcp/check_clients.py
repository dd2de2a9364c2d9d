"""tend's MCP server with the official Python SDK (`mcp` on PyPI), over stdio
(`tend mcp`) and over streamable HTTP (`/mcp` on `tend serve`): the tools listed
with their schemas, every tool called and its answer checked against the store,
resources and prompts, permissions, bad input as an agent would send it, and the
seed's JSON message over HTTP. Run by tools/mcp_clients.sh, which prepares the
store, the tokens and the server and passes them in the environment.
"""

import asyncio
import json
import os
import sqlite3
import sys
import urllib.error
import urllib.request

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

TEND = os.environ["TEND_BIN"]
DB_PATH = os.environ["TEND_DB"]
URL = os.environ["TEND_URL"]
TOKENS = {role: os.environ[f"TEND_TOKEN_{role.upper()}"] for role in ("admin", "csm", "viewer")}
TOKEN_IDS = {role: os.environ[f"TEND_TOKEN_ID_{role.upper()}"] for role in ("admin", "csm", "viewer")}
BOOK = os.environ["TEND_BOOK"]

EXPECTED_TOOLS = {
    "get_customer_context", "search_accounts", "get_account", "explain_health",
    "list_at_risk", "get_timeline", "list_tasks", "create_task", "update_task",
    "log_activity", "portfolio_metrics", "progress_report", "list_renewals",
    "get_forecast", "list_expansion",
}
WRITE_TOOLS = {"create_task", "update_task", "log_activity"}

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def db():
    return sqlite3.connect(DB_PATH)


def one(sql, *args):
    with db() as conn:
        return conn.execute(sql, args).fetchone()[0]


def written():
    """What a refused or bad call must leave as it was."""
    return (one("SELECT COUNT(*) FROM tasks"), one("SELECT COUNT(*) FROM activities"),
            one("SELECT COUNT(*) FROM audit_log WHERE action NOT LIKE '%.use' AND action <> 'auth.failure'"),
            one("SELECT COALESCE(MAX(updated_at), '') FROM tasks"))


def stdio(role):
    return StdioServerParameters(
        command=TEND, args=["mcp", "--token", TOKENS[role]],
        env={"TEND_DATABASE_URL": f"sqlite:{DB_PATH}", "PATH": os.environ.get("PATH", "")})


def stdio_user(handle):
    return StdioServerParameters(
        command=TEND, args=["mcp", "--user", handle],
        env={"TEND_DATABASE_URL": f"sqlite:{DB_PATH}", "PATH": os.environ.get("PATH", "")})


def http(role):
    headers = {"Authorization": f"Bearer {TOKENS[role]}"}
    return streamable_http_client(f"{URL}/mcp", http_client=create_mcp_http_client(headers=headers))


def text(result):
    return " ".join(c.text for c in result.content if getattr(c, "text", None))


async def call(client, name, args):
    result = await client.call_tool(name, args)
    return result, text(result)


def book_accounts():
    with db() as conn:
        return [r[0] for r in conn.execute(
            "SELECT id FROM accounts WHERE (csm_owner = ? OR am_owner = ?) AND churned_on IS NULL ORDER BY id",
            (BOOK, BOOK))]


def portfolio_arr(ids):
    """ARR in force on the last day of the data, in the one currency of the demo."""
    with db() as conn:
        day = conn.execute("SELECT MAX(day) FROM health_snapshots").fetchone()[0]
        marks = ",".join("?" * len(ids))
        minor = conn.execute(
            f"SELECT COALESCE(SUM(arr_minor), 0) FROM contracts WHERE account_id IN ({marks}) "
            "AND start_date <= ? AND end_date >= ?", (*ids, day, day)).fetchone()[0]
    return minor / 100


def latest_scores(ids):
    with db() as conn:
        day = conn.execute("SELECT MAX(day) FROM health_snapshots").fetchone()[0]
        marks = ",".join("?" * len(ids))
        return dict(conn.execute(
            f"SELECT account_id, overall FROM health_snapshots WHERE day = ? AND account_id IN ({marks})",
            (day, *ids)))


async def list_tools(client, how):
    tools = (await client.list_tools()).tools
    names = {t.name for t in tools}
    check(names == EXPECTED_TOOLS, f"{how}: tools/list names the {len(EXPECTED_TOOLS)} tools ({sorted(names ^ EXPECTED_TOOLS)} differ)")
    undescribed = [
        f"{t.name}.{p}" for t in tools for p, s in t.input_schema.get("properties", {}).items()
        if not s.get("description")
    ]
    check(all(t.description for t in tools) and not undescribed,
          f"{how}: every tool and every parameter is described (missing: {undescribed})")
    read_only = {t.name for t in tools if t.annotations and t.annotations.read_only_hint}
    check(read_only == EXPECTED_TOOLS - WRITE_TOOLS, f"{how}: read tools are marked read-only")


async def every_tool(client, how):
    book = book_accounts()
    scores = latest_scores(book)

    result, words = await call(client, "get_customer_context", {})
    ctx = result.structured_content
    arr = portfolio_arr(book)
    check(not result.is_error and ctx["accounts"] == len(book) and ctx["owner"] == BOOK
          and abs(ctx["arr"] - arr) <= 1,
          f"{how}: get_customer_context covers the caller's book ({ctx and ctx.get('accounts')} of {len(book)}, ARR {ctx and ctx.get('arr')} of {arr})")
    scored = [s for s in scores.values() if s is not None]
    average = round(sum(scored) / len(scored), 1)
    check(abs(ctx["health"]["average"] - average) < 0.051,
          f"{how}: its average health {ctx['health']['average']} is the store's {average}")
    for key in ("segments", "product_usage", "churn_risks", "growth_opportunities", "success_goals", "account_page"):
        check(key in ctx, f"{how}: the context has {key}")
    page_scores = [line["health"] for line in ctx["account_page"] if line["health"] is not None]
    check(page_scores == sorted(page_scores), f"{how}: the account page is lowest health first")
    check(words.startswith(f"{len(book)} accounts"), f"{how}: the summary says the count: {words[:60]}")
    if ctx["next_cursor"]:
        result, _ = await call(client, "get_customer_context", {"cursor": ctx["next_cursor"]})
        seen = {line["id"] for line in ctx["account_page"]}
        check(not result.is_error and not seen & {l["id"] for l in result.structured_content["account_page"]},
              f"{how}: the next page holds other accounts")

    account = book[0]
    result, _ = await call(client, "get_customer_context", {"account_id": account})
    one_ctx = result.structured_content
    check(not result.is_error and one_ctx["id"] == account
          and abs(one_ctx["health"]["score"] - round(scores[account], 1)) < 0.051,
          f"{how}: get_customer_context of {account} has its stored health {scores[account]:.1f}")

    name = one("SELECT name FROM accounts WHERE id = ?", account)
    word = name.split()[0]
    result, _ = await call(client, "search_accounts", {"query": word, "limit": 50})
    found = [i["account"]["id"] for i in result.structured_content["items"]]
    check(account in found and all(word.lower() in (i["account"]["name"] + i["account"]["id"]).lower()
                                   for i in result.structured_content["items"]),
          f"{how}: search_accounts {word!r} finds {account} and only matches")

    result, _ = await call(client, "get_account", {"account_id": account})
    view = result.structured_content
    contracts = one("SELECT COUNT(*) FROM contracts WHERE account_id = ?", account)
    check(view["account"]["name"] == name and len(view["contracts"]) == contracts,
          f"{how}: get_account has {account}'s name and {contracts} contracts")

    result, _ = await call(client, "explain_health", {"account_id": account})
    check(not result.is_error and result.structured_content["account"]["id"] == account
          and result.structured_content["explanation"]["measures"],
          f"{how}: explain_health explains {account} measure by measure")

    result, _ = await call(client, "list_at_risk", {"band": "any", "limit": 100})
    with db() as conn:
        day = conn.execute("SELECT MAX(day) FROM risk_snapshots WHERE target = 'churn'").fetchone()[0]
        stored = dict(conn.execute(
            "SELECT account_id, probability FROM risk_snapshots WHERE target = 'churn' AND day = ?", (day,)))
    rows = result.structured_content["rows"]
    check(not result.is_error and result.structured_content["total"] == len(stored)
          and all(abs(r["probability"] - stored[r["account_id"]]) < 1e-9 for r in rows)
          and [r["probability"] for r in rows] == sorted((r["probability"] for r in rows), reverse=True),
          f"{how}: list_at_risk has the store's {len(stored)} churn probabilities, highest first")

    result, _ = await call(client, "get_timeline", {"account_id": account, "limit": 5})
    check(not result.is_error and 0 < len(result.structured_content["items"]) <= 5,
          f"{how}: get_timeline pages {account}'s timeline")

    result, _ = await call(client, "list_tasks", {"account_id": account, "status": ["open", "in_progress", "snoozed", "done", "cancelled"], "limit": 100})
    stored_tasks = one("SELECT COUNT(*) FROM tasks WHERE account_id = ?", account)
    check(not result.is_error and len(result.structured_content["items"]) == min(stored_tasks, 100),
          f"{how}: list_tasks has {account}'s {stored_tasks} tasks")

    result, _ = await call(client, "portfolio_metrics", {"owner": BOOK})
    request = urllib.request.Request(f"{URL}/api/v1/summary", headers={"Authorization": f"Bearer {TOKENS['csm']}"})
    summary = json.load(urllib.request.urlopen(request))
    metrics = result.structured_content
    # The metrics of a period count the accounts lost in it too.
    ever = one("SELECT COUNT(*) FROM accounts WHERE csm_owner = ? OR am_owner = ?", BOOK, BOOK)
    check(not result.is_error and metrics["portfolio"] == summary and metrics["scoped"]["accounts"] == ever,
          f"{how}: portfolio_metrics is the API's summary, and the book's metrics over its {ever} accounts")

    result, words = await call(client, "list_renewals", {"owner": "*", "limit": 100})
    with db() as conn:
        last = conn.execute("SELECT MAX(day) FROM health_snapshots").fetchone()[0]
        due = conn.execute(
            "SELECT COUNT(DISTINCT account_id || '/' || product || '/' || renewal_date) FROM contracts "
            "WHERE status <> 'cancelled' AND renewal_date BETWEEN ? AND date(?, '+180 days')", (last, last)).fetchone()[0]
    pipeline = result.structured_content
    check(not result.is_error and pipeline["total"] == due
          and all(last <= r["due_on"] for r in pipeline["pipeline"]["items"]),
          f"{how}: list_renewals has the {due} terms the contracts bring due in 180 days: {words}")

    result, words = await call(client, "get_forecast", {"owner": "*", "periods": 2})
    forecast = result.structured_content
    first = forecast["periods"][0] if not result.is_error else {}
    with db() as conn:
        due = conn.execute(
            "SELECT COUNT(DISTINCT account_id || '/' || product || '/' || renewal_date) FROM contracts "
            "WHERE status <> 'cancelled' AND renewal_date >= ? AND renewal_date < ?",
            (first.get("start"), first.get("end"))).fetchone()[0]
    check(not result.is_error and len(forecast["periods"]) == 2 and first["renewals"] == due
          and first["p10"]["minor"] <= first["expected"]["minor"] <= first["p90"]["minor"],
          f"{how}: get_forecast covers the {due} terms due in {first.get('period')}, expected inside P10-P90: {words}")
    result, words = await call(client, "get_forecast", {"period": "2027-Q5"})
    check(result.is_error and "period" in words, f"{how}: a bad period is named: {words}")

    result, words = await call(client, "list_expansion", {"owner": "*", "limit": 5})
    request = urllib.request.Request(f"{URL}/api/v1/expansion/signals?limit=5",
                                     headers={"Authorization": f"Bearer {TOKENS['csm']}"})
    api_signals = json.load(urllib.request.urlopen(request))
    expansion = result.structured_content if not result.is_error else {}
    with db() as conn:
        customers = {r[0] for r in conn.execute(
            "SELECT id FROM accounts WHERE churned_on IS NULL OR churned_on > ?", (last,))}
    listed = expansion.get("signals", {}).get("items", [])
    check(not result.is_error and expansion["signals"] == api_signals and len(listed) <= 5
          and all(s["account_id"] in customers for s in listed)
          and expansion["whitespace"]["total"] >= 0,
          f"{how}: list_expansion has the API's {api_signals['total']} signals, all on customers: {words}")
    result, words = await call(client, "list_expansion", {"limit": 0})
    check(result.is_error and "limit" in words, f"{how}: a bad limit is named: {words}")

    result, words = await call(client, "progress_report", {})
    progress = result.structured_content["progress"]
    check(not result.is_error and progress["accounts_managed"] == len(book)
          and progress["health_score_avg"] == round(sum(scored) / len(scored)),
          f"{how}: progress_report manages {len(book)} accounts at average health {round(sum(scored) / len(scored))}")
    check(words.startswith(f"Managing {len(book)} accounts with average health score of"),
          f"{how}: the delivery sentence: {words}")


async def writes(client, how, token_id):
    account = book_accounts()[0]
    result, words = await call(client, "create_task", {
        "account_id": account, "title": f"Review adoption plan ({how})", "priority": "high",
        "steps": ["Book the call", "Send the recap"]})
    check(not result.is_error, f"{how}: create_task on {account}: {words}")
    task = result.structured_content["id"]
    check(one("SELECT title FROM tasks WHERE id = ?", task) == f"Review adoption plan ({how})"
          and one("SELECT COUNT(*) FROM task_steps WHERE task_id = ?", task) == 2,
          f"{how}: the task and its two steps are in the store")
    result, words = await call(client, "update_task", {"task_id": task, "status": "in_progress", "priority": "urgent"})
    check(not result.is_error and one("SELECT status || '/' || priority FROM tasks WHERE id = ?", task) == "in_progress/urgent",
          f"{how}: update_task moved it to in_progress, urgent")
    result, words = await call(client, "log_activity", {
        "account_id": account, "kind": "call", "subject": f"Adoption check-in ({how})", "body": "Agreed next steps."})
    check(not result.is_error and one("SELECT COUNT(*) FROM activities WHERE subject = ?", f"Adoption check-in ({how})") == 1,
          f"{how}: log_activity stored the call")
    activity = result.structured_content["id"]
    actor = f"token:{token_id}"
    audited = [
        one("SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action = ? AND target = ?", actor, action, target)
        for action, target in (("task.create", str(task)), ("task.update", str(task)), ("activity.create", activity))
    ]
    check(audited == [1, 1, 1], f"{how}: each write is audited once with {actor} as actor ({audited})")


async def refusals(client, viewer, how):
    account = book_accounts()[0]
    with db() as conn:
        outside = conn.execute(
            "SELECT id FROM accounts WHERE COALESCE(csm_owner, '') <> ? AND COALESCE(am_owner, '') <> ? "
            "AND churned_on IS NULL ORDER BY id LIMIT 1",
            (BOOK, BOOK)).fetchone()[0]
    before = written()
    for name, args in [
        ("create_task", {"account_id": account, "title": "not allowed"}),
        ("log_activity", {"account_id": account, "kind": "note", "subject": "not allowed"}),
    ]:
        result, words = await call(viewer, name, args)
        check(result.is_error and "may not" in words, f"{how}: a viewer's {name} is refused: {words}")
    result, words = await call(client, "log_activity", {"account_id": outside, "kind": "note", "subject": "outside"})
    check(result.is_error and outside in words, f"{how}: a CSM's write outside the book is refused: {words}")

    bad = [
        ("get_account", {"account_id": "ACC-1"}, "ACC-00001"),
        ("get_account", {}, "`account_id` is required"),
        ("get_account", {"account_id": 17}, "account_id"),
        ("search_accounts", {"limit": "ten"}, "limit"),
        ("search_accounts", {"limit": 100000}, "limit"),
        ("get_customer_context", {"limit": 0}, "limit"),
        ("search_accounts", {"colour": "red"}, "colour"),
        ("list_tasks", {"status": ["finished"]}, "status"),
        ("create_task", {"account_id": account, "title": "x", "due_on": "next week"}, "YYYY-MM-DD"),
        ("create_task", {"account_id": "ACC-99999", "title": "x"}, "no account \"ACC-99999\""),
        ("update_task", {"task_id": "seven"}, "task_id"),
        ("log_activity", {"account_id": account, "kind": "fax", "subject": "x"}, "kind"),
        ("list_at_risk", {"band": "severe"}, "band"),
        ("no_such_tool", {}, "no_such_tool"),
    ]
    for name, args, named in bad:
        result, words = await call(client, name, args)
        check(result.is_error and named in words, f"{how}: {name} {json.dumps(args)} is a tool error naming {named}: {words}")
    # A page past the end: a cursor of the whole list used on a narrower one.
    first, _ = await call(client, "search_accounts", {"sort": "id", "limit": 1})
    cursor = first.structured_content["next_cursor"]
    result, words = await call(client, "search_accounts", {"sort": "id", "query": "ACC-00001", "cursor": cursor})
    check(result.is_error and "cursor" in words, f"{how}: a page past the end names the cursor: {words}")
    wide, _ = await call(client, "get_customer_context", {"owner": "*", "limit": 100})
    if wide.structured_content and wide.structured_content.get("next_cursor"):
        # The whole portfolio's cursor (offset 100) on the book of fewer accounts.
        result, words = await call(client, "get_customer_context", {"cursor": wide.structured_content["next_cursor"]})
        check(result.is_error and "cursor" in words, f"{how}: a context page past the end names the cursor: {words}")
    check(written() == before, f"{how}: refused and bad calls wrote nothing")


async def resources_and_prompts(client, how):
    templates = (await client.list_resource_templates()).resource_templates
    check(any(t.uri_template == "tend://accounts/{id}" for t in templates), f"{how}: the account resource template")
    account = book_accounts()[0]
    contents = (await client.read_resource(f"tend://accounts/{account}")).contents
    check(json.loads(contents[0].text)["id"] == account, f"{how}: tend://accounts/{account} reads its context")
    prompts = {p.name for p in (await client.list_prompts()).prompts}
    check(prompts == {"account_analysis", "qbr_preparation", "renewal_preparation"}, f"{how}: the three workflow prompts")
    prompt = await client.get_prompt("qbr_preparation", {"account_id": account})
    check(account in prompt.messages[0].content.text, f"{how}: the QBR prompt names {account}")


def post(path, body, token):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{URL}{path}", data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def agent_messages():
    seed = {
        "requesting_agent": "customer-success-manager",
        "request_type": "get_customer_context",
        "payload": {"query": "Customer context needed: account segments, product usage, health metrics, churn risks, growth opportunities, and success goals."},
    }
    status, body = post("/api/v1/agent/messages", seed, TOKENS["csm"])
    check(status == 200 and body["context"]["accounts"] == len(book_accounts()) and body["responding_agent"] == "tend",
          f"HTTP: the seed's context request is answered for the book ({status})")
    status, body = post("/api/v1/agent/messages", {**seed, "request_type": "get_everything"}, TOKENS["csm"])
    check(status == 400 and body.get("pointer") == "/request_type", f"HTTP: an unknown request_type is a 400 naming it ({status})")
    status, _ = post("/api/v1/agent/messages", seed, None)
    check(status == 401, f"HTTP: the message without a token is refused ({status})")
    status, _ = post("/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, None)
    check(status == 401, f"HTTP: /mcp without a token is refused ({status})")
    status, _ = post("/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, "tend_not_a_token")
    check(status == 401, f"HTTP: /mcp with a wrong token is refused ({status})")


async def main():
    for how, transport in (("stdio", stdio), ("HTTP", http)):
        async with Client(transport("csm")) as client, Client(transport("viewer")) as viewer:
            await list_tools(client, how)
            await every_tool(client, how)
            await writes(client, how, TOKEN_IDS["csm"])
            await refusals(client, viewer, how)
            await resources_and_prompts(client, how)
    # A user instead of a token: the CSM whose book it is, acting as themselves.
    async with Client(stdio_user(BOOK)) as user:
        result, words = await call(user, "progress_report", {})
        check(not result.is_error and result.structured_content["progress"]["accounts_managed"] == len(book_accounts()),
              f"stdio as user {BOOK}: the progress report of their own book: {words[:50]}")
        account = book_accounts()[0]
        result, _ = await call(user, "log_activity", {"account_id": account, "kind": "note", "subject": "as a user"})
        check(not result.is_error and one("SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action = 'activity.create'",
                                         f"user:{BOOK}") == 1,
              f"stdio as user {BOOK}: a write audited as user:{BOOK}")
    agent_messages()
    print(f"{len(failures)} failed" if failures else "every check passed")
    sys.exit(1 if failures else 0)


asyncio.run(main())
