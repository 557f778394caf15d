
-- Every default passes its setting's rule.
DO $$
BEGIN
	PERFORM retail.check_settings();
END
$$;
