-- retail_analytics upgrade 0.2.0 -> 0.3.0, assembled by the Makefile from
-- sql/upgrade/0.2.0--0.3.0/*.sql: parts written by hand (ALTER, DROP,
-- CREATE OR REPLACE), never links to install parts
\echo Use "ALTER EXTENSION retail_analytics UPDATE TO '0.3.0'" to load this file. \quit
