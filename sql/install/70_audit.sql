-- Order-anomaly audit: exact median and MAD in C (src/audit.c), modified
-- z-scores, and the mart gold.audit_order_anomalies.

CREATE TYPE retail.median_mad_result AS (
	median double precision,
	mad double precision
);
COMMENT ON TYPE retail.median_mad_result IS
	'Result of retail.median_mad: the median and the median absolute deviation';

CREATE FUNCTION retail.median_mad_trans(internal, double precision) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_trans(internal, double precision) IS
	'Transition function of retail.median_mad: collects the values';

CREATE FUNCTION retail.median_mad_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_combine(internal, internal) IS
	'Combine function of retail.median_mad: merges two partial states';

CREATE FUNCTION retail.median_mad_serial(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ra_median_mad_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_serial(internal) IS
	'Serialization function of retail.median_mad';

CREATE FUNCTION retail.median_mad_deserial(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_deserial(bytea, internal) IS
	'Deserialization function of retail.median_mad; rejects malformed states';

CREATE FUNCTION retail.median_mad_final(internal) RETURNS retail.median_mad_result
	AS 'MODULE_PATHNAME', 'ra_median_mad_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_final(internal) IS
	'Final function of retail.median_mad: selects the median, then the median of the absolute deviations';

CREATE AGGREGATE retail.median_mad(double precision) (
	SFUNC = retail.median_mad_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = retail.median_mad_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.median_mad_combine,
	SERIALFUNC = retail.median_mad_serial,
	DESERIALFUNC = retail.median_mad_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.median_mad(double precision) IS
	'Exact median and median absolute deviation of the non-NULL values (even count: the mean of the two middle values, as percentile_cont(0.5)); NULL when there are none';

-- The weighted form: each value counts weight times (the state keeps one
-- entry per row, not one per occurrence).  The same C as the unweighted
-- form, whose rows are values of weight 1, and the same support functions.
CREATE FUNCTION retail.median_mad_trans(internal, double precision, bigint) RETURNS internal
	AS 'MODULE_PATHNAME', 'ra_median_mad_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retail.median_mad_trans(internal, double precision, bigint) IS
	'Transition function of retail.median_mad(double precision, bigint): collects the values with their weights';

CREATE AGGREGATE retail.median_mad(value double precision, weight bigint) (
	SFUNC = retail.median_mad_trans,
	STYPE = internal,
	SSPACE = 1024,
	FINALFUNC = retail.median_mad_final,
	FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = retail.median_mad_combine,
	SERIALFUNC = retail.median_mad_serial,
	DESERIALFUNC = retail.median_mad_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE retail.median_mad(double precision, bigint) IS
	'Exact median and median absolute deviation of the non-NULL values, each counted weight times: what retail.median_mad(value) gives on the rows repeated weight times; a weight of 0 adds nothing, a NULL or negative weight of a non-NULL value is an error; NULL when no value has weight';

CREATE FUNCTION retail.modified_z(value double precision, center retail.median_mad_result)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN (center).mad > 0
			THEN 0.6745::double precision * (value - (center).median) / (center).mad
	   END;
COMMENT ON FUNCTION retail.modified_z(double precision, retail.median_mad_result) IS
	'Modified z-score 0.6745 * (value - median) / MAD; NULL when the MAD is 0 (no score, never flagged)';

CREATE FUNCTION retail.modified_z(value double precision, center retail.median_mad_result,
								  min_scale double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (value - (center).median) / nullif(greatest((center).mad / 0.6745, min_scale), 0);
COMMENT ON FUNCTION retail.modified_z(double precision, retail.median_mad_result, double precision) IS
	'Robust z-score (value - median) / max(MAD / 0.6745, min_scale): the modified z-score whose scale never falls below min_scale, so that a MAD of 0 or near it does not flag values within min_scale * threshold of the median; NULL when the scale is 0';

INSERT INTO retail.setting_defaults (name, default_value, description, value_type, lower_bound,
									 lower_exclusive, upper_bound, nullable) VALUES
	('audit_threshold', '3.5', 'gold.audit_order_anomalies: flag a modified z-score above this',
	 'number', 0, true, NULL, false);

INSERT INTO retail.refresh_steps VALUES
	(400, 'gold', 'gold_store', 'audit_order_anomalies');
