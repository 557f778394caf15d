-- retail_analytics upgrade 0.1.0 -> 0.2.0, assembled by the Makefile from
-- sql/upgrade/0.1.0--0.2.0/*.sql, one part per feature area
\echo Use "ALTER EXTENSION retail_analytics UPDATE TO '0.2.0'" to load this file. \quit
