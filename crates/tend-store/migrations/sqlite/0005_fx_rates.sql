-- Exchange rates: one unit of currency is worth rate units of base from date on.
CREATE TABLE fx_rates (
    currency TEXT NOT NULL,
    base     TEXT NOT NULL,
    date     TEXT NOT NULL,
    rate     REAL NOT NULL CHECK (rate > 0),
    PRIMARY KEY (currency, base, date)
) WITHOUT ROWID;
