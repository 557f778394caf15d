#!/usr/bin/env python3
"""The extension's rules in pandas, the way an analyst's notebook does them.

bench/run times this beside `\\copy` + `CALL retail.refresh()` on the same
CSV: parse, clean by silver's rules 1-7 (first failing rule is the reason),
orders, then the marts: RFM quintiles and segments, the cohort retention
matrix, ABC of countries, ABC/XYZ of products, the order-total audit.  It
does the same work; it need not match value for value (money is float here).

    python3 bench/pandas_pipeline.py online_retail.csv[.gz]
prints each stage's seconds and the sizes of its results.
"""
import sys
import time

import numpy as np
import pandas as pd

COLUMNS = ["invoice_no", "stock_code", "description", "quantity", "invoice_date",
           "unit_price", "customer_id", "country"]
NON_PRODUCTS = {"POST", "DOT", "M", "D", "C2", "CRUK", "PADS", "B", "S", "AMAZONFEE", "BANK CHARGES"}
stages = []


def stage(name, started):
    stages.append((name, time.perf_counter() - started))
    return time.perf_counter()


def silver(raw):
    """Rules 1-7 of spec/metrics.md; returns the clean lines, typed."""
    t = raw.apply(lambda c: c.str.strip())
    inv, sc, q, d, p, cu, co = (t[c] for c in ["invoice_no", "stock_code", "quantity", "invoice_date",
                                                 "unit_price", "customer_id", "country"])
    qn = pd.to_numeric(q.where(q.str.fullmatch(r"[+-]?[0-9]+")), errors="coerce")
    pn = pd.to_numeric(p.where(p.str.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")), errors="coerce")
    ts = pd.to_datetime(d.str.replace("T", " ", regex=False), format="%Y-%m-%d %H:%M", errors="coerce")
    us = ts.isna() & d.str.contains("/", regex=False)
    ts[us] = pd.to_datetime(d[us], format="%m/%d/%Y %H:%M", errors="coerce")
    cun = pd.to_numeric(cu.str.replace(r"\.0+$", "", regex=True), errors="coerce")
    well_formed = ((inv != "") & (sc != "") & (co != "")
                   & qn.between(-2**31, 2**31 - 1)
                   # below 10^15 in steps of 0.000001
                   & p.str.fullmatch(r"[+-]?0*[0-9]{0,15}(\.[0-9]{0,6}0*)?")
                   & ts.between("1900-01-01", "2099-12-31 23:59:59")
                   & ((cu == "") | (cun >= 0)))
    upper_sc = sc.str.upper()
    reason = pd.Series(None, index=t.index, dtype=object)
    for name, broken in [("malformed", ~well_formed),
                         ("missing_customer", cu == ""),
                         ("cancellation", inv.str.upper().str.startswith("C")),
                         ("non_positive_quantity", qn <= 0),
                         ("non_positive_price", pn <= 0),
                         ("non_product", upper_sc.isin(NON_PRODUCTS) | upper_sc.str.startswith("GIFT_"))]:
        reason = reason.where(reason.notna() | ~broken, name)
    passing = reason.isna()
    # rule 7: a passing line equal (trimmed) to an earlier passing line
    reason[passing & t[passing].duplicated(keep="first").reindex(t.index, fill_value=False)] = "duplicate"
    clean = pd.DataFrame({
        "invoice_no": inv.str.upper(), "stock_code": upper_sc,
        "description": t["description"].replace("", None), "quantity": qn, "invoice_ts": ts,
        "unit_price": pn, "customer_id": cun, "country": co,
    })[reason.isna()]
    clean["customer_id"] = clean["customer_id"].astype("int64")
    clean["quantity"] = clean["quantity"].astype("int64")
    clean["line_total"] = clean["quantity"] * clean["unit_price"]
    return clean, reason.value_counts(dropna=False)


def orders_of(clean):
    return clean.groupby("invoice_no", sort=False).agg(
        customer_id=("customer_id", "first"), country=("country", "first"), invoice_ts=("invoice_ts", "min"),
        lines=("quantity", "size"), units=("quantity", "sum"), total=("line_total", "sum"))


def percentile_disc(values, fractions):
    v = np.sort(values)
    return [v[max(int(np.ceil(f * len(v))) - 1, 0)] for f in fractions]


def rfm(clean):
    as_of = clean["invoice_ts"].max().normalize() + pd.Timedelta(days=1)
    c = clean.groupby("customer_id").agg(last=("invoice_ts", "max"), frequency=("invoice_no", "nunique"),
                                          monetary=("line_total", "sum"))
    c["recency_days"] = (as_of - c["last"].dt.normalize()).dt.days
    k = [0.2, 0.4, 0.6, 0.8]
    cuts = {m: percentile_disc(c[m].to_numpy(), k) for m in ["recency_days", "frequency", "monetary"]}
    c["r"] = 1 + sum((c["recency_days"] < x).astype(int) for x in cuts["recency_days"])
    c["f"] = 1 + sum((c["frequency"] > x).astype(int) for x in cuts["frequency"])
    c["m"] = 1 + sum((c["monetary"] > x).astype(int) for x in cuts["monetary"])
    c["rfm_cell"] = c["r"].astype(str) + c["f"].astype(str) + c["m"].astype(str)
    r, f, m = c["r"], c["f"], c["m"]
    c["segment"] = np.select(
        [(r <= 2) & (f <= 2), (r <= 2) & (f <= 4), r <= 2, (r == 3) & (f <= 2), (r == 3) & (f == 3),
         r.isin([3, 4]) & (f >= 4), (r == 4) & (f == 1), (r == 5) & (f == 1), f.isin([2, 3])],
        ["Hibernating", "At Risk", "Can't Lose Them", "About to Sleep", "Need Attention", "Loyal Customers",
         "Promising", "New Customers", "Potential Loyalists"], "Champions")
    c["seed_segment"] = np.select(
        [c["recency_days"] > 90, (r >= 4) & (f >= 4) & (m >= 4), m <= 2],
        ["At Risk", "Champions", "Lowspender"], "Regular")
    return c


def cohorts(clean):
    ts = clean["invoice_ts"]
    month = ts.dt.year * 12 + ts.dt.month - 1
    lines = pd.DataFrame({"customer_id": clean["customer_id"], "month": month, "revenue": clean["line_total"]})
    lines["cohort"] = lines.groupby("customer_id")["month"].transform("min")
    lines["period"] = lines["month"] - lines["cohort"]
    cells = lines.groupby(["cohort", "period"]).agg(active_customers=("customer_id", "nunique"),
                                                    revenue=("revenue", "sum"))
    active = cells["active_customers"].unstack(fill_value=0)
    last = month.max()
    # dense up to the last month of the data: periods a cohort has reached
    for cohort in active.index:
        active.loc[cohort, [p for p in active.columns if p > last - cohort]] = np.nan
    size = active[0]
    return active.div(size, axis=0), cells


def abc(values, a=0.80, b=0.95):
    v = values.sort_index().sort_values(ascending=False, kind="stable")
    share = v / v.sum()
    before = share.cumsum() - share
    return pd.DataFrame({"revenue": v, "share": share, "cum_share_before": before,
                         "abc_class": np.where(before < a, "A", np.where(before < b, "B", "C"))})


def products(clean):
    p = abc(clean.groupby("stock_code")["line_total"].sum())
    d = clean.dropna(subset=["description"]).groupby(["stock_code", "description"]).size().reset_index(name="n")
    d = d.sort_values(["stock_code", "n", "description"], ascending=[True, False, True])
    p["description"] = d.drop_duplicates("stock_code").set_index("stock_code")["description"]
    monthly = clean.groupby(["stock_code", clean["invoice_ts"].dt.to_period("M")])["quantity"].sum()
    units = monthly.unstack(fill_value=0)
    span = units.columns.to_numpy()
    first = monthly.reset_index().groupby("stock_code")["invoice_ts"].min()
    last = monthly.reset_index().groupby("stock_code")["invoice_ts"].max()
    inside = (span >= first.reindex(units.index).to_numpy()[:, None]) & (span <= last.reindex(units.index).to_numpy()[:, None])
    u = units.where(inside)
    cv = u.std(axis=1, ddof=0) / u.mean(axis=1)
    p["cv"] = cv
    p["xyz_class"] = np.where(p["cv"] < 0.5, "X", np.where(p["cv"] < 1.0, "Y", "Z"))
    p["abc_xyz"] = p["abc_class"] + p["xyz_class"]
    return p


def audit(orders):
    x = np.log(orders["total"])
    median = x.median()
    mad = (x - median).abs().median()
    z = 0.6745 * (x - median) / mad
    return orders.assign(z=z)[z > 3.5]


def main(path):
    started = total = time.perf_counter()
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, names=COLUMNS, header=0)
    started = stage("read CSV", started)
    clean, reasons = silver(raw)
    started = stage("silver: rules 1-7", started)
    orders = orders_of(clean)
    started = stage("silver: orders", started)
    segments = rfm(clean)
    started = stage("gold: RFM", started)
    retention, cells = cohorts(clean)
    started = stage("gold: cohorts", started)
    countries = abc(clean.groupby("country")["line_total"].sum())
    started = stage("gold: countries ABC", started)
    prods = products(clean)
    started = stage("gold: products ABC/XYZ", started)
    anomalies = audit(orders)
    stage("gold: audit", started)
    for name, seconds in stages:
        print(f"{name:28} {seconds:8.3f} s")
    print(f"{'total':28} {time.perf_counter() - total:8.3f} s")
    print(f"lines {len(raw)}, clean {len(clean)}, rejected {dict(reasons.drop(np.nan, errors='ignore'))}")
    print(f"orders {len(orders)}, customers {len(segments)}, cohorts {len(retention)}, "
          f"countries {len(countries)}, products {len(prods)}, anomalies {len(anomalies)}")


if __name__ == "__main__":
    main(sys.argv[1])
