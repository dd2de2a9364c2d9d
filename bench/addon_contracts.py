"""Add-on contracts for a demo store, so that whitespace has products to rank.

The demo sells one product per segment; a company with add-ons holds them on some
accounts only. For each account's core term in force on the store's last day of
usage this writes, with a fixed seed, an "Insights" add-on (on about half of the
Enterprise accounts, a third of Business, a sixth of Team, at 15–25% of the core
ARR) and an "Automate" add-on (a quarter, a sixth, a twentieth, at 10–20%), over
the same dates. Import the CSV with `tend import contracts`.

    python3 bench/addon_contracts.py STORE.db OUT.csv
"""

import csv
import random
import sqlite3
import sys

SHARES = {
    "Enterprise": {"Insights": 0.5, "Automate": 0.25},
    "Business": {"Insights": 0.33, "Automate": 0.16},
    "Team": {"Insights": 0.16, "Automate": 0.05},
}
PRICE = {"Insights": (0.15, 0.25), "Automate": (0.10, 0.20)}


def main(store, out):
    rng = random.Random(7)
    db = sqlite3.connect(store)
    # The last day of the data: the demo's usage runs to its as-of day.
    (last,) = db.execute("SELECT MAX(day) FROM usage_daily").fetchone()
    rows = db.execute(
        "SELECT id, account_id, product, seats, arr_minor, currency, start_date, end_date "
        "FROM contracts WHERE start_date <= ? AND end_date >= ? AND status != 'cancelled' "
        "ORDER BY id",
        (last, last),
    ).fetchall()
    written = 0
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "account_id", "product", "seats", "arr_minor", "currency",
                    "start_date", "end_date", "notice_days", "status"])
        for cid, account, product, seats, arr, currency, start, end in rows:
            for addon, share in SHARES.get(product, {}).items():
                if rng.random() < share:
                    low, high = PRICE[addon]
                    price = round(arr * rng.uniform(low, high) / 100) * 100
                    w.writerow([f"{cid}-{addon}", account, addon, seats, price, currency,
                                start, end, 30, "active"])
                    written += 1
    print(f"{written} add-on contracts over {len(rows)} terms in force on {last}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
