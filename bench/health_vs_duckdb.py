#!/usr/bin/env python3
"""Full health rescore: tend against the same measures computed in DuckDB.

    python3 bench/health_vs_duckdb.py [ACCOUNTS]        (default 100000)

Builds (once, under bench/data/) a demo company of ACCOUNTS accounts with twelve months
of daily usage rollups, then in one run, both warm (database file in the OS cache,
DuckDB tables in memory):
  1. exports the data with `tend export` (once) and loads it into an in-memory DuckDB
     (timed separately: loading is not part of the comparison);
  2. three times each, alternating: `tend health rescore` (read every active account's
     data from SQLite, compute all 21 measures of the default scorecards, score, store
     the snapshots) with its peak memory, and DuckDB computing the same raw measure
     values with SQL over its tables;
  3. checks that both sides agree on every account's raw values, and prints medians.
Needs `pip install duckdb` and a release build (`cargo build --release`).
"""

import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta

import duckdb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEND = os.path.join(ROOT, "target", "release", "tend")
AS_OF = date(2026, 11, 1)
DAY = AS_OF - timedelta(days=1)
RUNS = 3


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(args, env=None):
    """Runs a command; returns (seconds, peak resident KiB, peak anonymous KiB, stdout).
    Resident memory counts the pages of the database file SQLite maps for reading;
    anonymous memory is what the process itself allocated (sampled every 10 ms)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    peak_anon = peak_rss = 0
    while proc.poll() is None:
        peak_anon = max(peak_anon, status_kib(proc.pid, "RssAnon"))
        peak_rss = max(peak_rss, status_kib(proc.pid, "VmHWM"))
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    stdout = proc.stdout.read()
    if proc.returncode != 0:
        sys.exit(f"{args} failed with {proc.returncode}")
    return seconds, peak_rss, peak_anon, stdout


def build(db, export_dir, accounts):
    env = dict(os.environ, TEND_DATABASE_URL=f"sqlite:{db}")
    if not os.path.exists(db):
        print(f"generating the {accounts}-account demo company (once)…", flush=True)
        subprocess.run(
            [TEND, "demo", "--accounts", str(accounts), "--months", "12",
             "--as-of", AS_OF.isoformat(), "--health-days", "0"],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )
    if not os.path.exists(os.path.join(export_dir, "usage-daily.csv")):
        print("exporting it for DuckDB (once)…", flush=True)
        subprocess.run([TEND, "export", export_dir], env=env, check=True)
    return env


TABLES = {
    "accounts": "id, created_on::DATE AS created_on, NULLIF(churned_on, '')::DATE AS churned_on",
    "contacts": "id, account_id, role, NULLIF(joined_on, '')::DATE AS joined_on, "
                "NULLIF(left_on, '')::DATE AS left_on",
    "contracts": "id, account_id, product, seats::BIGINT AS seats, arr_minor::BIGINT AS arr_minor, "
                 "currency, start_date::DATE AS start_date, end_date::DATE AS end_date",
    "usage_daily": "account_id, day::DATE AS day, events::BIGINT AS events, "
                   "active_users::BIGINT AS active_users, "
                   "active_users_30d::BIGINT AS active_users_30d, feature_events",
    "tickets": "id, account_id, NULLIF(contact_id, '') AS contact_id, priority, "
               "replace(created_at, 'Z', '')::TIMESTAMP AS created_at, "
               "replace(NULLIF(first_response_at, ''), 'Z', '')::TIMESTAMP AS first_response_at, "
               "replace(NULLIF(solved_at, ''), 'Z', '')::TIMESTAMP AS solved_at, "
               "NULLIF(satisfaction, '')::INTEGER AS satisfaction",
    "surveys": "id, account_id, NULLIF(contact_id, '') AS contact_id, kind, score::INTEGER AS score, "
               "replace(responded_at, 'Z', '')::TIMESTAMP AS responded_at",
    "invoices": "id, account_id, status, issued_on::DATE AS issued_on, due_on::DATE AS due_on, "
                "NULLIF(paid_on, '')::DATE AS paid_on",
    "payments": "id, account_id, status, replace(attempted_at, 'Z', '')::TIMESTAMP AS attempted_at",
    "activities": "id, account_id, NULLIF(contact_id, '') AS contact_id, "
                  "replace(occurred_at, 'Z', '')::TIMESTAMP AS occurred_at",
}
FILES = {"usage_daily": "usage-daily", "surveys": "survey-responses"}


def load(con, export_dir):
    for table, columns in TABLES.items():
        path = os.path.join(export_dir, FILES.get(table, table) + ".csv")
        con.execute(
            f"CREATE TABLE {table} AS SELECT {columns} "
            f"FROM read_csv('{path}', all_varchar = true, header = true)"
        )


# The measures of tend_core::health::measures, as of the end of day D, with each
# measure's default window. S30/S60/S90/S180/S365 are the first instants of the
# 30/60/90/180/365-day windows ending on D; E is the end of D.
MEASURES_SQL = """
WITH
acc AS (SELECT id FROM accounts WHERE created_on <= $D AND (churned_on IS NULL OR churned_on > $D)),
seats AS (SELECT account_id, SUM(seats) AS seats FROM contracts
          WHERE start_date <= $D AND $D <= end_date GROUP BY account_id),
u30 AS (SELECT account_id, arg_max(active_users_30d, day) AS mau, SUM(active_users) AS au,
               SUM(events) AS ev
        FROM usage_daily WHERE day BETWEEN $D - 29 AND $D GROUP BY account_id),
u_prev AS (SELECT account_id, SUM(events) AS ev FROM usage_daily
           WHERE day BETWEEN $D - 59 AND $D - 30 GROUP BY account_id),
features AS (
  SELECT account_id, COUNT(DISTINCT f) AS used FROM (
    SELECT account_id, unnest(json_keys(feature_events)) AS f, feature_events
    FROM usage_daily WHERE day BETWEEN $D - 29 AND $D)
  WHERE split_part(f, ' ', 1) IN ('Dashboard', 'Report', 'Alert', 'Integration')
    AND CAST(json_extract(feature_events, '$."' || f || '"') AS BIGINT) > 0
  GROUP BY account_id),
last_use AS (SELECT account_id, MAX(day) AS day FROM usage_daily
             WHERE day <= $D AND events > 0 GROUP BY account_id),
tk AS (
  SELECT account_id,
    COUNT(*) FILTER (WHERE created_at < $E AND (solved_at IS NULL OR solved_at >= $E)) AS open_n,
    COUNT(*) FILTER (WHERE priority = 'urgent' AND created_at < $E
                     AND (solved_at IS NULL OR solved_at >= $E)) AS urgent_n,
    COUNT(*) FILTER (WHERE created_at >= $S30 AND created_at < $E) AS recent_n,
    COUNT(*) FILTER (WHERE created_at >= $S60 AND created_at < $S30) AS before_n,
    quantile_cont(date_diff('second', created_at, first_response_at) / 3600.0, 0.5)
      FILTER (WHERE created_at >= $S90 AND created_at < $E AND first_response_at < $E) AS median_h,
    AVG(satisfaction) FILTER (WHERE created_at >= $S90 AND created_at < $E AND solved_at < $E
                              AND satisfaction IS NOT NULL) AS sat
  FROM tickets GROUP BY account_id),
nps_latest AS (
  SELECT s.account_id, s.score,
         CASE WHEN c.role IN ('decision_maker', 'executive_sponsor', 'champion') THEN 2.0 ELSE 1.0 END AS w
  FROM (SELECT *, row_number() OVER (PARTITION BY account_id, COALESCE(contact_id, id)
                                     ORDER BY responded_at DESC, id) AS rn
        FROM surveys WHERE kind = 'nps' AND responded_at >= $S365 AND responded_at < $E) s
  LEFT JOIN contacts c ON c.id = s.contact_id AND c.account_id = s.account_id
  WHERE rn = 1),
nps_role AS (
  SELECT account_id,
         100.0 * SUM(w * CASE WHEN score >= 9 THEN 1 WHEN score <= 6 THEN -1 ELSE 0 END) / SUM(w) AS v
  FROM nps_latest GROUP BY account_id),
nps_tr AS (
  SELECT account_id,
    (COUNT(*) FILTER (WHERE r AND score >= 9) - COUNT(*) FILTER (WHERE r AND score <= 6)) * 100.0
      / NULLIF(COUNT(*) FILTER (WHERE r), 0)
    - (COUNT(*) FILTER (WHERE b AND score >= 9) - COUNT(*) FILTER (WHERE b AND score <= 6)) * 100.0
      / NULLIF(COUNT(*) FILTER (WHERE b), 0) AS v
  FROM (SELECT account_id, score, responded_at >= $S90 AND responded_at < $E AS r,
               responded_at >= $S180 AND responded_at < $S90 AS b
        FROM surveys WHERE kind = 'nps') GROUP BY account_id),
csat AS (
  SELECT account_id, COUNT(*) FILTER (WHERE score >= 4) * 100.0 / COUNT(*) AS v
  FROM surveys WHERE kind = 'csat' AND responded_at >= $S180 AND responded_at < $E
  GROUP BY account_id),
roles AS (SELECT account_id, id, role FROM contacts
          WHERE (joined_on IS NULL OR joined_on <= $D) AND (left_on IS NULL OR left_on > $D)),
touched AS (
  SELECT account_id, contact_id FROM activities
    WHERE contact_id IS NOT NULL AND occurred_at >= $S90 AND occurred_at < $E
  UNION SELECT account_id, contact_id FROM tickets
    WHERE contact_id IS NOT NULL AND created_at >= $S90 AND created_at < $E
  UNION SELECT account_id, contact_id FROM surveys
    WHERE contact_id IS NOT NULL AND responded_at >= $S90 AND responded_at < $E),
rel AS (
  SELECT r.account_id,
         bool_or(r.role = 'champion') AS champion,
         bool_or(r.role = 'champion' AND t.contact_id IS NOT NULL) AS champion_engaged,
         bool_or(r.role = 'executive_sponsor' AND t.contact_id IS NOT NULL) AS sponsor_engaged
  FROM roles r LEFT JOIN touched t ON t.account_id = r.account_id AND t.contact_id = r.id
  GROUP BY r.account_id),
departures AS (SELECT account_id, COUNT(*) AS n FROM contacts
               WHERE role = 'champion' AND left_on BETWEEN $D - 89 AND $D GROUP BY account_id),
touch AS (SELECT account_id, MAX(occurred_at) AS at FROM activities WHERE occurred_at < $E
          GROUP BY account_id),
overdue AS (SELECT account_id, COUNT(*) AS n FROM invoices
            WHERE status <> 'void' AND issued_on <= $D AND due_on < $D
              AND (paid_on IS NULL OR paid_on > $D) GROUP BY account_id),
failed AS (SELECT account_id, COUNT(*) AS n FROM payments
           WHERE status = 'failed' AND attempted_at >= $S90 AND attempted_at < $E
           GROUP BY account_id),
renewal AS (
  SELECT account_id, currency = old_currency AND arr_minor < old_arr AS contracted
  FROM (
    SELECT c.account_id, c.currency, c.arr_minor, p.currency AS old_currency, p.arr_minor AS old_arr,
           row_number() OVER (PARTITION BY c.account_id ORDER BY c.start_date DESC, c.id DESC) AS latest
    FROM contracts c
    JOIN (SELECT c2.id AS cid, p2.*,
                 row_number() OVER (PARTITION BY c2.id ORDER BY p2.end_date DESC, p2.id DESC) AS rn
          FROM contracts c2 JOIN contracts p2
            ON p2.account_id = c2.account_id AND p2.product = c2.product
           AND p2.end_date < c2.start_date) p ON p.cid = c.id AND p.rn = 1
    WHERE c.start_date <= $D)
  WHERE latest = 1)
SELECT acc.id,
  CASE WHEN seats.seats > 0 THEN COALESCE(u30.mau, 0) / seats.seats END AS license_utilization,
  CASE WHEN COALESCE(u30.mau, 0) > 0 THEN (u30.au / 30.0) / u30.mau END AS dau_mau,
  CASE WHEN u_prev.ev > 0 THEN COALESCE(u30.ev, 0) / u_prev.ev - 1.0 END AS usage_trend,
  COALESCE(features.used, 0) / 4.0 AS feature_adoption,
  $D - last_use.day AS days_since_last_activity,
  COALESCE(tk.open_n, 0) AS open_tickets,
  COALESCE(tk.urgent_n, 0) AS urgent_open_tickets,
  COALESCE(tk.recent_n, 0) - COALESCE(tk.before_n, 0) AS ticket_trend,
  tk.median_h AS median_first_response_hours,
  tk.sat AS ticket_satisfaction,
  nps_role.v AS nps_by_role,
  nps_tr.v AS nps_trend,
  csat.v AS csat,
  CASE WHEN COALESCE(rel.champion, false) THEN 1 ELSE 0 END AS champion_present,
  CASE WHEN COALESCE(rel.champion_engaged, false) THEN 1 ELSE 0 END AS champion_engaged,
  CASE WHEN COALESCE(rel.sponsor_engaged, false) THEN 1 ELSE 0 END AS executive_sponsor_engaged,
  COALESCE(departures.n, 0) AS champion_departures,
  $D - CAST(touch.at AS DATE) AS days_since_csm_touch,
  COALESCE(overdue.n, 0) AS overdue_invoices,
  COALESCE(failed.n, 0) AS failed_payments,
  CASE WHEN renewal.contracted IS NULL THEN NULL WHEN renewal.contracted THEN 1 ELSE 0 END
    AS contraction_at_last_renewal
FROM acc
LEFT JOIN seats ON seats.account_id = acc.id
LEFT JOIN u30 ON u30.account_id = acc.id
LEFT JOIN u_prev ON u_prev.account_id = acc.id
LEFT JOIN features ON features.account_id = acc.id
LEFT JOIN last_use ON last_use.account_id = acc.id
LEFT JOIN tk ON tk.account_id = acc.id
LEFT JOIN nps_role ON nps_role.account_id = acc.id
LEFT JOIN nps_tr ON nps_tr.account_id = acc.id
LEFT JOIN csat ON csat.account_id = acc.id
LEFT JOIN rel ON rel.account_id = acc.id
LEFT JOIN departures ON departures.account_id = acc.id
LEFT JOIN touch ON touch.account_id = acc.id
LEFT JOIN overdue ON overdue.account_id = acc.id
LEFT JOIN failed ON failed.account_id = acc.id
LEFT JOIN renewal ON renewal.account_id = acc.id
ORDER BY acc.id
"""


def measures_in_duckdb(con):
    start = lambda days: f"TIMESTAMP '{(DAY - timedelta(days=days - 1)).isoformat()} 00:00:00'"
    sql = MEASURES_SQL
    for name, value in [
        ("$S365", start(365)), ("$S180", start(180)), ("$S90", start(90)),
        ("$S60", start(60)), ("$S30", start(30)),
        ("$E", f"TIMESTAMP '{(DAY + timedelta(days=1)).isoformat()} 00:00:00'"),
        ("$D", f"DATE '{DAY.isoformat()}'"),
    ]:
        sql = sql.replace(name, value)
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return names, cursor.fetchall()


def tend_raw_values(db):
    con = sqlite3.connect(db)
    out = {}
    for account, measures in con.execute(
        "SELECT account_id, measures FROM health_snapshots WHERE day = ?", (DAY.isoformat(),)
    ):
        out[account] = {m[1]: m[2] for m in json.loads(measures)}
    return out


def agree(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))


def main():
    accounts = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data = os.path.join(ROOT, "bench", "data")
    os.makedirs(data, exist_ok=True)
    db = os.path.join(data, f"health-{accounts}.db")
    export_dir = os.path.join(data, f"health-{accounts}-csv")
    env = build(db, export_dir, accounts)

    # Both sides run warm: the database file is read once so it sits in the OS cache,
    # as DuckDB's tables sit in memory.
    with open(db, "rb") as f:
        while f.read(1 << 24):
            pass
    con = duckdb.connect()
    started = time.perf_counter()
    load(con, export_dir)
    load_s = time.perf_counter() - started
    rollups = con.execute("SELECT COUNT(*) FROM usage_daily").fetchone()[0]

    # The machine's speed drifts (shared VM), so the two sides alternate, three runs
    # each, and medians are compared.
    tend_runs, duck_runs = [], []
    tend_kib = tend_anon = 0
    for _ in range(RUNS):
        seconds, kib, anon, stdout = run_measured(
            [TEND, "health", "rescore", "--as-of", DAY.isoformat()], env=env)
        print(stdout.strip(), flush=True)
        tend_runs.append(seconds)
        tend_kib, tend_anon = max(tend_kib, kib), max(tend_anon, anon)
        started = time.perf_counter()
        names, rows = measures_in_duckdb(con)
        duck_runs.append(time.perf_counter() - started)
    duck_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tend_s, duck_s = sorted(tend_runs)[RUNS // 2], sorted(duck_runs)[RUNS // 2]

    tend = tend_raw_values(db)
    compared = mismatched = 0
    examples = []
    for row in rows:
        theirs = tend.get(row[0])
        if theirs is None:
            mismatched += 1
            examples.append((row[0], "not scored by tend"))
            continue
        for name, value in zip(names[1:], row[1:]):
            if name in theirs:
                compared += 1
                if not agree(theirs[name], value):
                    mismatched += 1
                    if len(examples) < 10:
                        examples.append((row[0], name, theirs[name], value))
    print(f"accounts scored: tend {len(tend)}, DuckDB {len(rows)}; daily rollups: {rollups:,}")
    print(f"raw values compared: {compared:,}, disagreeing: {mismatched}")
    for example in examples:
        print("  ", example)
    print("tend runs:   " + ", ".join(f"{t:.2f} s" for t in tend_runs))
    print("DuckDB runs: " + ", ".join(f"{t:.2f} s" for t in duck_runs))
    print(f"tend health rescore (median): {tend_s:.2f} s, peak RSS {tend_kib / 1024:.0f} MiB "
          f"of which allocated {tend_anon / 1024:.0f} MiB, the rest the mapped database file "
          "(reads SQLite, computes, scores and stores snapshots)")
    print(f"DuckDB measures (median): {duck_s:.2f} s, peak RSS {duck_kib / 1024:.0f} MiB "
          f"(tables already in memory; loading the CSV export took {load_s:.1f} s)")
    print(f"ratio (DuckDB / tend): {duck_s / tend_s:.2f}")


if __name__ == "__main__":
    main()
