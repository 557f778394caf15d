-- Printed at the end of scripts/demo: what each layer holds.
\pset footer off
\echo '== What the refresh did'
SELECT layer, relation, rows, seconds FROM retail.last_refresh;
\echo '== Bronze to silver: where every raw line went'
SELECT coalesce(reason, '(clean)') AS landed_as, count(*) AS lines,
	   round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS pct
FROM silver.transactions
GROUP BY reason
ORDER BY count(*) DESC;
