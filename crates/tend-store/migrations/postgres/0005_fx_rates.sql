-- Exchange rates: one unit of currency is worth rate units of base from date on.
CREATE TABLE fx_rates (
    currency TEXT NOT NULL,
    base     TEXT NOT NULL,
    date     DATE NOT NULL,
    rate     DOUBLE PRECISION NOT NULL CHECK (rate > 0),
    PRIMARY KEY (currency, base, date)
);
