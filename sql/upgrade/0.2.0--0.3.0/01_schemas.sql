
COMMENT ON SCHEMA retail IS 'The extension retail_analytics: its functions, aggregates, settings, presets and refresh log';
