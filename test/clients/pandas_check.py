"""Gold as an analyst reads it with pandas: every object of schema gold (found
in pg_catalog, and listed alike by information_schema) through psycopg2 and
pandas.read_sql, with parse_dates for the date and timestamp columns of the
catalog.  Checks the dtypes pandas gives
(integers int64, numerics float64 through coerce_float, dates datetime64[ns],
text object), that no column of a non-empty object is entirely NULL unless
its COMMENT says when it is NULL, and that fractions are in [0, 1].

Connects with the usual PG* variables (test/clients/run sets them to a
retail_bi login over TCP).  Prints one result line per check and one line
per failure naming gold.object.column; exits 1 on any failure.
"""
import re
import sys
import time
import warnings

import pandas as pd
import psycopg2

# Shares, retention and probabilities: fractions in [0, 1], double precision
# (p0 .. p12: the retention cells of the cohort triangle).  As in
# GoldMetadata.java.
FRACTION = re.compile(r"(^|_)share($|_)|(^|_)retention($|_)|_rate$|^p_alive$|^p[0-9]+$")
INTEGER = {"smallint", "integer", "bigint"}
FLOAT = {"numeric", "double precision", "real"}
DATETIME = {"date", "timestamp without time zone", "timestamp with time zone"}
TEXT = {"text", "character varying", "character"}

failures = {}
started = time.monotonic()


def fail(check, where, what):
    print(f"    {where}: {what}")
    failures.setdefault(check, []).append(where)


def report(check):
    """A result line in pg_regress's format, which scripts/test counts."""
    global started
    ms = int((time.monotonic() - started) * 1000)
    print(f"test clients/pandas_{check:<28} ... {'FAILED' if check in failures else 'ok':<6} {ms:6d} ms")
    started = time.monotonic()


def catalog(conn):
    """{object: [(column, base type, comment)]} of every gold object (all of them readable by retail_bi)."""
    with conn.cursor() as cur:
        cur.execute("""
            SELECT c.relname, a.attname,
                   pg_catalog.format_type(a.atttypid, NULL),
                   pg_catalog.col_description(c.oid, a.attnum)
            FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = 'gold' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
            ORDER BY c.relname, a.attnum""")
        objects = {}
        for rel, col, typ, comment in cur.fetchall():
            objects.setdefault(rel, []).append((col, typ, comment))
    return objects


def information_schema(conn):
    """{object: [(column, type, comment)]} as information_schema lists gold (what dbt and many tools read)."""
    with conn.cursor() as cur:
        cur.execute("""
            SELECT c.table_name, c.column_name, c.data_type,
                   pg_catalog.col_description(pg_catalog.format('gold.%I', c.table_name)::regclass,
                                              c.ordinal_position::integer)
            FROM information_schema.columns c
            WHERE c.table_schema = 'gold'
            ORDER BY c.table_name, c.ordinal_position""")
        objects = {}
        for rel, col, typ, comment in cur.fetchall():
            objects.setdefault(rel, []).append((col, typ, comment))
    return objects


def check_listed(objects, listed):
    """Every gold object of pg_catalog, with the same columns, types and comments in information_schema."""
    for obj, columns in objects.items():
        if obj not in listed:
            fail("information_schema", f"gold.{obj}", "in pg_catalog, not in information_schema.columns")
        elif listed[obj] != columns:
            fail("information_schema", f"gold.{obj}",
                 f"information_schema has {listed[obj]}, pg_catalog {columns}")
    for obj in listed.keys() - objects.keys():
        fail("information_schema", f"gold.{obj}", "in information_schema.columns, not in pg_catalog")


def check_dtypes(obj, df, columns):
    for col, typ, _ in columns:
        where = f"gold.{obj}.{col}"
        s = df[col]
        dtype = str(s.dtype)
        nulls = bool(s.isna().any())
        if s.isna().all():
            continue  # no values to type: check_nulls judges the column
        if typ in INTEGER:
            # pandas 1.5's read_sql has no nullable integer dtype: a NULL
            # makes the column float64 (NaN); its values must still be whole
            if nulls:
                if dtype != "float64" or not (s.dropna() % 1 == 0).all():
                    fail("dtypes", where, f"{typ} with NULLs read as {dtype}, expected float64 of whole numbers")
            elif dtype != "int64":
                fail("dtypes", where, f"{typ} read as {dtype}, expected int64")
        elif typ in FLOAT:
            if dtype != "float64":
                fail("dtypes", where, f"{typ} read as {dtype}, expected float64 (coerce_float)")
        elif typ in DATETIME:
            if dtype != "datetime64[ns]":
                fail("dtypes", where, f"{typ} read as {dtype}, expected datetime64[ns] (parse_dates)")
        elif typ in TEXT:
            if dtype != "object" or not s.dropna().map(lambda v: isinstance(v, str)).all():
                fail("dtypes", where, f"{typ} read as {dtype}, expected object of str")
        elif typ == "boolean":
            if dtype != ("object" if nulls else "bool"):
                fail("dtypes", where, f"boolean read as {dtype}, expected bool")
        else:
            fail("dtypes", where, f"type {typ} not expected in gold")


def check_nulls(obj, df, columns):
    if df.empty:
        return
    for col, _, comment in columns:
        # allowed where the column's COMMENT documents when it is NULL
        if df[col].isna().all() and "NULL" not in (comment or ""):
            fail("all_null", f"gold.{obj}.{col}", f"NULL in all {len(df)} rows, and its COMMENT does not say when")


def check_fractions(obj, df, columns):
    if obj.endswith("_display"):
        return
    for col, typ, _ in columns:
        if FRACTION.search(col):
            where = f"gold.{obj}.{col}"
            if typ != "double precision":
                fail("fractions", where, f"a fraction should be double precision, not {typ}")
                continue
            values = pd.to_numeric(df[col]).dropna()
            outside = values[(values < 0) | (values > 1)]
            if not outside.empty:
                fail("fractions", where, f"{len(outside)} values outside [0, 1], e.g. {outside.iloc[0]}")


def main():
    conn = psycopg2.connect("")
    objects = catalog(conn)
    # the objects of 0.3.0's gold, so that the checks cannot pass for want of
    # objects (as in GoldMetadata.java)
    for name in ("mart_customer_segments", "segment_summary", "mart_cohort_retention", "cohort_triangle",
                 "cohort_triangle_display", "cohort_period_averages", "mart_countries_abc", "mart_products_abc",
                 "audit_order_anomalies", "segment_month_ends", "segment_history", "mart_segment_migration",
                 "segment_migration", "clv_model", "mart_customer_value", "dim_customers", "orders"):
        if name not in objects:
            fail("discover", f"gold.{name}", "not in pg_catalog")
    report("discover")
    check_listed(objects, information_schema(conn))
    report("information_schema")
    for obj, columns in objects.items():
        dates = [col for col, typ, _ in columns if typ in DATETIME]
        try:
            with warnings.catch_warnings():
                # pandas 2 warns about a DBAPI connection that is not SQLAlchemy's
                warnings.simplefilter("ignore", UserWarning)
                df = pd.read_sql(f'SELECT * FROM gold."{obj}"', conn, coerce_float=True, parse_dates=dates)
        except Exception as e:  # noqa: BLE001 - any error of a read is the finding
            fail("read", f"gold.{obj}", f"{type(e).__name__}: {e}".strip())
            conn.rollback()
            continue
        if list(df.columns) != [col for col, _, _ in columns]:
            fail("read", f"gold.{obj}", f"columns {list(df.columns)} differ from the catalog's")
            continue
        check_dtypes(obj, df, columns)
        check_nulls(obj, df, columns)
        check_fractions(obj, df, columns)
    for check in ("read", "dtypes", "all_null", "fractions"):
        report(check)
    conn.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
