// Gold as a BI tool sees it through the PostgreSQL JDBC driver: discovers the
// objects of schema gold with DatabaseMetaData.getTables/getColumns (as
// Metabase, Tableau and Power BI do), checks their metadata against the
// conventions of gold (issue 10: every object and column documented,
// numerics with a declared precision and scale, fractions double precision in
// [0, 1] and exact, percentages only in views named *_display, dates as date,
// counts integers, money numeric(38,6)), checks that information_schema lists
// the same objects and columns (issue 18: no materialized view in gold), reads
// every object whole, and checks that the login cannot read silver or bronze.
// Connects with CLIENTS_URL, CLIENTS_USER and CLIENTS_PASSWORD.  Prints one result line per check and one line per
// failure naming gold.object.column; exits 1 on any failure.
//
// Compiled at test time by test/clients/run (javac -cp postgresql.jar).

import java.math.BigDecimal;
import java.math.MathContext;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

public class GoldMetadata {
	record Column(String name, int type, String typeName, int precision, int scale, String remarks) {
		boolean isNumeric() {
			return type == Types.NUMERIC || type == Types.DECIMAL;
		}
	}

	record Relation(String name, String kind, String remarks, List<Column> columns) {
		boolean isDisplay() {
			return name.endsWith("_display");
		}
	}

	// Shares, retention and probabilities: fractions in [0, 1], double
	// precision.  p0 .. p12 are the retention cells of the cohort triangle.
	static final Pattern FRACTION = Pattern.compile("(^|_)share($|_)|(^|_)retention($|_)|_rate$|^p_alive$|^p[0-9]+$");
	static final Pattern PERCENT = Pattern.compile("(^|_)(pct|percent|percentage)($|_)");
	static final Pattern DATE = Pattern.compile("(^|_)month$|(^|_)as_of$");
	static final Set<String> MONEY = Set.of("revenue", "monetary", "total", "unit_price", "product_median_price");
	// Objects of 0.3.0's gold: discovery that misses one is broken, and the
	// other checks would pass for want of objects.
	static final Set<String> KNOWN = Set.of("mart_customer_segments", "segment_summary", "mart_cohort_retention",
			"cohort_triangle", "cohort_triangle_display", "cohort_period_averages", "mart_countries_abc",
			"mart_products_abc", "audit_order_anomalies", "segment_month_ends", "segment_history",
			"mart_segment_migration", "segment_migration", "clv_model", "mart_customer_value", "dim_customers",
			"orders");
	// The natural order of the views that promise one: its ORDER BY, and the
	// columns that it sorts on.  SELECT * must return the rows in the order
	// of SELECT columns ... ORDER BY it (compared in the server's collation).
	record Order(List<String> columns, String orderBy) {}
	static final Map<String, Order> ORDER = Map.of(
			"segment_summary", new Order(List.of("revenue"), "revenue DESC"),
			"cohort_triangle", new Order(List.of("cohort_month"), "cohort_month"),
			"cohort_triangle_display", new Order(List.of("cohort_month"), "cohort_month"),
			"cohort_period_averages", new Order(List.of("period"), "period"),
			"audit_order_anomalies", new Order(List.of("z", "invoice_no"), "abs(z) DESC NULLS LAST, invoice_no"));
	// Counts: integer types.
	static final Set<String> COUNTS = Set.of("customers", "active_customers", "cohort_size", "cohorts", "orders",
			"lines", "units", "frequency", "rank", "period");

	// The objects whose fractions checkExact recomputes, and their rows.
	static final Set<String> EXACT = Set.of("mart_cohort_retention", "cohort_triangle", "cohort_period_averages",
			"segment_summary", "mart_countries_abc", "mart_products_abc");
	static final Map<String, List<Map<String, Object>>> rowsOf = new HashMap<>();

	static final Map<String, List<String>> failures = new LinkedHashMap<>();
	static int failedChecks;

	static void fail(String check, String where, String what) {
		System.out.printf("    %s: %s%n", where, what);
		failures.computeIfAbsent(check, k -> new ArrayList<>()).add(where);
	}

	static long started = System.nanoTime();

	// a result line in pg_regress's format, which scripts/test counts
	static void report(String check) {
		boolean ok = !failures.containsKey(check);
		long ms = (System.nanoTime() - started) / 1000000;
		System.out.printf("test clients/jdbc_%-30s ... %-6s %6d ms%n", check, ok ? "ok" : "FAILED", ms);
		started = System.nanoTime();
		if (!ok)
			failedChecks++;
	}

	static boolean empty(String s) {
		return s == null || s.isBlank();
	}

	public static void main(String[] args) throws Exception {
		try (Connection conn = DriverManager.getConnection(System.getenv("CLIENTS_URL"),
				System.getenv("CLIENTS_USER"), System.getenv("CLIENTS_PASSWORD"))) {
			List<Relation> gold = discover(conn.getMetaData());
			checkDiscovery(gold);
			checkInformationSchema(conn, gold);
			checkRemarks(gold);
			checkTypes(gold);
			readAll(conn, gold);
			checkDenied(conn);
		}
		System.exit(failedChecks == 0 ? 0 : 1);
	}

	static List<Relation> discover(DatabaseMetaData md) throws SQLException {
		List<Relation> gold = new ArrayList<>();
		try (ResultSet t = md.getTables(null, "gold", "%", new String[] {"TABLE", "VIEW", "MATERIALIZED VIEW"})) {
			while (t.next())
				gold.add(new Relation(t.getString("TABLE_NAME"), t.getString("TABLE_TYPE"), t.getString("REMARKS"),
						new ArrayList<>()));
		}
		for (Relation rel : gold) {
			try (ResultSet c = md.getColumns(null, "gold", rel.name(), "%")) {
				while (c.next())
					rel.columns().add(new Column(c.getString("COLUMN_NAME"), c.getInt("DATA_TYPE"),
							c.getString("TYPE_NAME"), c.getInt("COLUMN_SIZE"), c.getInt("DECIMAL_DIGITS"),
							c.getString("REMARKS")));
			}
		}
		return gold;
	}

	static void checkDiscovery(List<Relation> gold) {
		Set<String> missing = new TreeSet<>(KNOWN);
		for (Relation rel : gold) {
			missing.remove(rel.name());
			if (rel.columns().isEmpty())
				fail("discover", "gold." + rel.name(), "getColumns found no column");
		}
		for (String name : missing)
			fail("discover", "gold." + name, "not found by getTables");
		report("discover");
	}

	// dbt, Looker and several drivers read information_schema, which lists
	// no materialized view and only what the login may read: it must list
	// every relation of gold (as pg_catalog has them), with the columns and
	// types getColumns gives; and the comments psql shows (obj_description,
	// col_description) must be the REMARKS.
	static void checkInformationSchema(Connection conn, List<Relation> gold) throws SQLException {
		Map<String, String> listed = new LinkedHashMap<>();
		Map<String, List<String>> columns = new HashMap<>();
		Map<String, String> comments = new HashMap<>();
		try (Statement st = conn.createStatement();
				ResultSet rs = st.executeQuery("""
						SELECT c.relname, t.table_type
						FROM pg_catalog.pg_class c
							 LEFT JOIN information_schema.tables t ON t.table_schema = 'gold' AND t.table_name = c.relname
						WHERE c.relnamespace = 'gold'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
						ORDER BY c.relname""")) {
			while (rs.next()) {
				listed.put(rs.getString(1), rs.getString(2));
				if (rs.getString(2) == null)
					fail("information_schema", "gold." + rs.getString(1),
							"in pg_catalog, not in information_schema.tables (a materialized view, or not granted)");
			}
		}
		try (Statement st = conn.createStatement();
				ResultSet rs = st.executeQuery("""
						SELECT c.table_name, c.column_name, c.udt_name, c.numeric_precision, c.numeric_scale,
							   pg_catalog.col_description(pg_catalog.format('gold.%I', c.table_name)::regclass,
														  c.ordinal_position::integer)
						FROM information_schema.columns c
						WHERE c.table_schema = 'gold'
						ORDER BY c.table_name, c.ordinal_position""")) {
			while (rs.next()) {
				String type = rs.getString(3);
				if (type.equals("numeric"))
					type += "(" + rs.getString(4) + "," + rs.getString(5) + ")";
				columns.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2) + " " + type);
				comments.put(rs.getString(1) + "." + rs.getString(2), rs.getString(6));
			}
		}
		try (Statement st = conn.createStatement();
				ResultSet rs = st.executeQuery("""
						SELECT t.table_name,
							   pg_catalog.obj_description(pg_catalog.format('gold.%I', t.table_name)::regclass, 'pg_class')
						FROM information_schema.tables t
						WHERE t.table_schema = 'gold'""")) {
			while (rs.next())
				comments.put(rs.getString(1), rs.getString(2));
		}
		for (Relation rel : gold) {
			String where = "gold." + rel.name();
			if (!listed.containsKey(rel.name()))
				fail("information_schema", where, "listed by getTables, not in pg_catalog");
			if (listed.get(rel.name()) == null)
				continue;
			if (!Objects.equals(comments.get(rel.name()), rel.remarks()))
				fail("information_schema", where, "REMARKS '" + rel.remarks() + "', obj_description '"
						+ comments.get(rel.name()) + "'");
			List<String> jdbc = new ArrayList<>();
			for (Column col : rel.columns()) {
				jdbc.add(col.name() + " " + col.typeName()
						+ (col.isNumeric() ? "(" + col.precision() + "," + col.scale() + ")" : ""));
				if (!Objects.equals(comments.get(rel.name() + "." + col.name()), col.remarks()))
					fail("information_schema", where + "." + col.name(), "REMARKS '" + col.remarks()
							+ "', col_description '" + comments.get(rel.name() + "." + col.name()) + "'");
			}
			List<String> info = columns.getOrDefault(rel.name(), List.of());
			if (!info.equals(jdbc))
				fail("information_schema", where, "information_schema.columns " + info + ", getColumns " + jdbc);
		}
		report("information_schema");
	}

	static void checkRemarks(List<Relation> gold) {
		for (Relation rel : gold) {
			if (empty(rel.remarks()))
				fail("remarks", "gold." + rel.name(), rel.kind() + " without REMARKS (no COMMENT)");
			for (Column col : rel.columns())
				if (empty(col.remarks()))
					fail("remarks", "gold." + rel.name() + "." + col.name(), "column without REMARKS (no COMMENT)");
		}
		report("remarks");
	}

	static void checkTypes(List<Relation> gold) {
		for (Relation rel : gold) {
			for (Column col : rel.columns()) {
				String where = "gold." + rel.name() + "." + col.name();
				String declared = col.typeName() + "(" + col.precision() + "," + col.scale() + ")";
				// pgjdbc reports an unconstrained numeric (typmod -1) as precision
				// 0 and scale 0 (older drivers: 1000 and 1000 or 0)
				if (col.isNumeric() && (col.precision() <= 0 || col.precision() >= 1000 || col.scale() < 0
						|| col.scale() > col.precision()))
					fail("numeric_scale", where, "numeric without a declared precision and scale: " + declared);
				if (!rel.isDisplay() && FRACTION.matcher(col.name()).find() && col.type() != Types.DOUBLE)
					fail("fraction_type", where, "a fraction should be double precision, not " + declared);
				if (!rel.isDisplay() && PERCENT.matcher(col.name()).find())
					fail("percent_only_display", where, "a percentage outside a view named *_display");
				if (!rel.isDisplay() && DATE.matcher(col.name()).find() && col.type() != Types.DATE)
					fail("dates", where, "a month or as-of date should be date, not " + col.typeName());
				if (COUNTS.contains(col.name())
						&& !Set.of(Types.BIGINT, Types.INTEGER, Types.SMALLINT).contains(col.type()))
					fail("counts", where, "a count should be bigint or integer, not " + declared);
				if (!rel.isDisplay() && MONEY.contains(col.name())
						&& !(col.isNumeric() && col.precision() == 38 && col.scale() == 6))
					fail("money", where, "money should be numeric(38,6), not " + declared);
			}
		}
		for (String check : List.of("numeric_scale", "fraction_type", "percent_only_display", "dates", "counts", "money"))
			report(check);
	}

	// SELECT * from every object: numerics arrive with their declared scale,
	// fractions in [0, 1], no text formatted as a percentage outside *_display,
	// the views that promise an order return it.
	static void readAll(Connection conn, List<Relation> gold) {
		for (Relation rel : gold) {
			try {
				read(conn, rel);
			} catch (SQLException e) {
				fail("read", "gold." + rel.name(), "SQLSTATE " + e.getSQLState() + ": " + e.getMessage());
			}
		}
		for (String check : List.of("read", "read_scale", "fraction_values", "percent_text", "order"))
			report(check);
		checkExact();
	}

	static void read(Connection conn, Relation rel) throws SQLException {
		String obj = "gold." + rel.name();
		List<String> keys = new ArrayList<>();
		try (Statement st = conn.createStatement();
				ResultSet rs = st.executeQuery("SELECT * FROM gold." + quote(rel.name()))) {
			ResultSetMetaData rmd = rs.getMetaData();
			int n = rmd.getColumnCount();
			if (n != rel.columns().size()) {
				fail("read", obj, n + " columns read, " + rel.columns().size() + " from getColumns");
				return;
			}
			Set<String> reported = new TreeSet<>();
			for (int i = 1; i <= n; i++) {
				Column col = rel.columns().get(i - 1);
				if (!col.name().equals(rmd.getColumnName(i)))
					fail("read", obj + "." + col.name(), "read as column " + rmd.getColumnName(i));
				else if (col.isNumeric() && rmd.getScale(i) != col.scale())
					fail("read_scale", obj + "." + col.name(),
							"ResultSetMetaData scale " + rmd.getScale(i) + ", getColumns DECIMAL_DIGITS " + col.scale());
			}
			Order order = ORDER.get(rel.name());
			long rows = 0;
			while (rs.next()) {
				rows++;
				for (int i = 1; i <= n; i++) {
					Column col = rel.columns().get(i - 1);
					String where = obj + "." + col.name();
					if (!rel.isDisplay() && FRACTION.matcher(col.name()).find()) {
						double f = rs.getDouble(i);
						if (!rs.wasNull() && !(f >= 0 && f <= 1) && reported.add("fraction " + where))
							fail("fraction_values", where, "value " + f + " outside [0, 1]");
					}
					if (col.isNumeric()) {
						BigDecimal v = rs.getBigDecimal(i);
						if (v == null)
							continue;
						if (v.scale() != col.scale() && reported.add("scale " + where))
							fail("read_scale", where, "value " + v.toPlainString() + " has scale " + v.scale()
									+ ", getColumns DECIMAL_DIGITS " + col.scale() + " (row " + rows + ")");
					} else if (col.type() == Types.VARCHAR && !rel.isDisplay()) {
						String v = rs.getString(i);
						if (v != null && v.strip().endsWith("%") && reported.add("percent " + where))
							fail("percent_text", where, "text formatted as a percentage: '" + v + "'");
					}
				}
				if (EXACT.contains(rel.name())) {
					Map<String, Object> row = new HashMap<>();
					for (int i = 1; i <= n; i++)
						row.put(rmd.getColumnName(i), rs.getObject(i));
					rowsOf.computeIfAbsent(rel.name(), k -> new ArrayList<>()).add(row);
				}
				if (order != null) {
					StringBuilder key = new StringBuilder();
					for (String name : order.columns())
						key.append(rs.getString(name)).append('|');
					keys.add(key.toString());
				}
			}
			if (rows == 0 && !rel.name().startsWith("audit_"))
				fail("read", obj, "no rows after a refresh of generated data");
			if (order != null)
				checkOrder(conn, rel.name(), order, keys);
		}
	}

	// No float noise: a fraction is the double nearest to its exact ratio
	// (computed in numeric, converted once), recomputed here from the counts
	// and money of the rows read: 4 / 5 must arrive as 0.8, not as
	// 0.8000000000000002 (float arithmetic) or as the double of a decimal
	// rounded too early.
	static void checkExact() {
		MathContext mc = new MathContext(60);
		List<Map<String, Object>> cells = rowsOf.getOrDefault("mart_cohort_retention", List.of());
		for (Map<String, Object> c : cells)
			exact("mart_cohort_retention", "retention", c, num(c, "active_customers"), num(c, "cohort_size"));
		Map<String, Object> retention = new HashMap<>();
		for (Map<String, Object> c : cells)
			retention.put(c.get("cohort_month") + "/" + c.get("period"), c.get("retention"));
		for (Map<String, Object> t : rowsOf.getOrDefault("cohort_triangle", List.of()))
			for (int k = 0; k <= 12; k++) {
				compared.merge("gold.cohort_triangle.p" + k, 1, Integer::sum);
				Object cell = retention.get(t.get("cohort_month") + "/" + k);
				if (t.containsKey("p" + k) && !Objects.equals(t.get("p" + k), cell))
					mismatch("gold.cohort_triangle.p" + k, t.get("p" + k) + " for cohort " + t.get("cohort_month")
							+ ", gold.mart_cohort_retention has " + cell);
			}
		for (Map<String, Object> a : rowsOf.getOrDefault("cohort_period_averages", List.of())) {
			exact("cohort_period_averages", "weighted_retention", a, num(a, "active_customers"), num(a, "customers"));
			BigDecimal sum = BigDecimal.ZERO;
			long n = 0;
			for (Map<String, Object> c : cells)
				if (Boolean.TRUE.equals(c.get("complete")) && c.get("period").equals(a.get("period"))) {
					sum = sum.add(num(c, "active_customers").divide(num(c, "cohort_size"), mc));
					n++;
				}
			exact("cohort_period_averages", "avg_retention", a, sum, BigDecimal.valueOf(n));
		}
		shares("segment_summary", "customers", "customer_share", null);
		shares("segment_summary", "revenue", "revenue_share", null);
		shares("mart_countries_abc", "revenue", "share", "cum_share_before");
		shares("mart_products_abc", "revenue", "share", "cum_share_before");
		for (String where : List.of("mart_cohort_retention.retention", "cohort_triangle.p1",
				"cohort_period_averages.weighted_retention", "cohort_period_averages.avg_retention",
				"segment_summary.customer_share", "segment_summary.revenue_share", "mart_countries_abc.share",
				"mart_countries_abc.cum_share_before", "mart_products_abc.share", "mart_products_abc.cum_share_before"))
			if (!compared.containsKey("gold." + where))
				fail("fractions_exact", "gold." + where, "no value to recompute (column or rows missing)");
		firstMismatch.forEach((where, what) -> fail("fractions_exact", where,
				what + " (" + mismatches.get(where) + " rows like this)"));
		report("fractions_exact");
	}

	// share = value / total; cumulative (if named) = values ranked strictly before / total
	static void shares(String rel, String value, String share, String cumulative) {
		List<Map<String, Object>> rows = new ArrayList<>(rowsOf.getOrDefault(rel, List.of()));
		BigDecimal total = BigDecimal.ZERO;
		for (Map<String, Object> r : rows)
			total = total.add(num(r, value));
		if (cumulative != null)
			rows.sort((a, b) -> num(a, "rank").compareTo(num(b, "rank")));
		BigDecimal before = BigDecimal.ZERO, tied = BigDecimal.ZERO;
		Object rank = null;
		for (Map<String, Object> r : rows) {
			exact(rel, share, r, num(r, value), total);
			if (cumulative != null) {
				if (!r.get("rank").equals(rank)) {
					before = before.add(tied);
					tied = BigDecimal.ZERO;
					rank = r.get("rank");
				}
				tied = tied.add(num(r, value));
				exact(rel, cumulative, r, before, total);
			}
		}
	}

	static BigDecimal num(Map<String, Object> row, String col) {
		Object v = row.get(col);
		return v instanceof BigDecimal d ? d : new BigDecimal(v.toString());
	}

	static void exact(String rel, String col, Map<String, Object> row, BigDecimal num, BigDecimal den) {
		if (!row.containsKey(col))
			return;
		compared.merge("gold." + rel + "." + col, 1, Integer::sum);
		Object got = row.get(col);
		Double want = den.signum() == 0 ? null : num.divide(den, new MathContext(60)).doubleValue();
		if (!Objects.equals(got, want))
			mismatch("gold." + rel + "." + col, got + " where the double nearest to " + num.toPlainString() + " / "
					+ den.toPlainString() + " is " + want);
	}

	// per column: its first mismatch, and how many rows mismatch
	static final Map<String, String> firstMismatch = new LinkedHashMap<>();
	static final Map<String, Integer> mismatches = new HashMap<>();
	static final Map<String, Integer> compared = new HashMap<>();

	static void mismatch(String where, String what) {
		firstMismatch.putIfAbsent(where, what);
		mismatches.merge(where, 1, Integer::sum);
	}

	static void checkOrder(Connection conn, String name, Order order, List<String> keys) throws SQLException {
		String cols = String.join(", ", order.columns());
		try (Statement st = conn.createStatement();
				ResultSet rs = st.executeQuery("SELECT " + cols + " FROM gold." + quote(name) + " ORDER BY "
						+ order.orderBy())) {
			for (int row = 1; rs.next(); row++) {
				StringBuilder key = new StringBuilder();
				for (String col : order.columns())
					key.append(rs.getString(col)).append('|');
				if (row > keys.size() || !keys.get(row - 1).equals(key.toString())) {
					fail("order", "gold." + name, "SELECT * returns row " + row + " out of the order ORDER BY "
							+ order.orderBy() + " (" + cols + ": " + (row > keys.size() ? "none" : keys.get(row - 1))
							+ " where " + key + " was expected)");
					return;
				}
			}
		}
	}

	static void checkDenied(Connection conn) throws SQLException {
		for (String table : List.of("silver.cleaned_transactions", "bronze.transactions_raw")) {
			try (Statement st = conn.createStatement()) {
				st.executeQuery("SELECT * FROM " + table + " LIMIT 1").close();
				fail("denied", table, "read by a retail_bi login");
			} catch (SQLException e) {
				if (!"42501".equals(e.getSQLState()))
					fail("denied", table, "expected permission denied (42501), got " + e.getSQLState() + ": "
							+ e.getMessage());
			}
		}
		report("denied");
	}

	static String quote(String name) {
		return "\"" + name.replace("\"", "\"\"") + "\"";
	}
}
