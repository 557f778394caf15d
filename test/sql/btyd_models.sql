-- The modified BG/NBD and Pareto/NBD (src/mbgnbd.c, src/paretonbd.c,
-- 76_btyd_models.sql): likelihoods and predictions against the published
-- formulas evaluated by mpmath, fits against the parameters data were
-- simulated with, serial against forced parallel, and errors.
SET extra_float_digits = 0;
CREATE SCHEMA btyd_models_test;

-- 1. At the parameters lifetimes' tests give for CDNOW (weeks): modified
-- BG/NBD r = 0.525, alpha = 6.183, a = 0.891, b = 1.614 (BTYDplus);
-- Pareto/NBD r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669 (Fader &
-- Hardie), and with alpha > beta (alpha = 20, beta = 5: 2F1's other branch).
-- The reference values are the published formulas evaluated by mpmath at 40
-- digits (python3-mpmath):
--   def mbg_ll(r, al, a, b, x, tx, T):   # Batislam, Denizel & Filiztekin 2007
--       c = exp(loggamma(r+x) - loggamma(r)) * al**r
--       return log(beta(a, b+x+1)/beta(a, b) * c / (al+T)**(r+x)
--                  + beta(a+1, b+x)/beta(a, b) * c / (al+tx)**(r+x))
--   def mbg_palive(...): 1/(1 + a/(b+x) * ((al+T)/(al+tx))**(r+x))
--   def mbg_exp(r, al, a, b, t, x, tx, T):
--       return (a+b+x)/(a-1) * (1 - ((al+T)/(al+T+t))**(r+x)
--              * hyp2f1(r+x, b+x+1, a+b+x, t/(al+T+t))) * mbg_palive(...)
--   def A0(r, al, s, be, x, tx, T):       # Fader & Hardie 2005, the Pareto/NBD note
--       if al >= be: f = lambda y: hyp2f1(r+s+x, s+1, r+s+x+1, (al-be)/(al+y)) / (al+y)**(r+s+x)
--       else:        f = lambda y: hyp2f1(r+s+x, r+x, r+s+x+1, (be-al)/(be+y)) / (be+y)**(r+s+x)
--       return f(tx) - f(T)    # checked against (r+s+x) quad((al+u)**-(r+x) (be+u)**-(s+1), [tx, T])
--   def pnbd_ll(r, al, s, be, x, tx, T):
--       return loggamma(r+x) - loggamma(r) + r*log(al) + s*log(be)
--              + log(1/((al+T)**(r+x) * (be+T)**s) + s/(r+s+x) * A0(...))
--   def pnbd_palive(...): 1/(1 + s/(r+s+x) * (al+T)**(r+x) * (be+T)**s * A0(...))
--   def pnbd_exp(r, al, s, be, t, x, tx, T):
--       return pnbd_palive(...) * (r+x)*(be+T)/(al+T) * (1 - ((be+T)/(be+T+t))**(s-1))/(s-1)
--       # at s = 1: log((be+T+t)/(be+T)) for the last factor
--   clv: as in btyd.sql, Gamma-Gamma p = 6.25, q = 3.74, gamma = 15.44, 12 months, 1 %
-- Each check: relative error below 1e-12.
CREATE TABLE btyd_models_test.reference (what text, ours double precision, reference numeric);
\set mb '(0.525, 6.183, 0.891, 1.614, NULL, NULL, NULL)::retail.mbgnbd_model'
\set pn '(0.553, 10.578, 0.606, 11.669, NULL, NULL, NULL)::retail.paretonbd_model'
\set pn2 '(0.553, 20, 0.606, 5, NULL, NULL, NULL)::retail.paretonbd_model'
\set gg '(6.25, 3.74, 15.44, NULL, NULL, NULL)::retail.gamma_gamma_model'
INSERT INTO btyd_models_test.reference VALUES
	('mbgnbd ll (0, 0, 38.86)', retail.mbgnbd_log_likelihood(:mb, 0, 0, 38.86), -0.53983746353101458742),
	('mbgnbd ll (2, 30.43, 38.86)', retail.mbgnbd_log_likelihood(:mb, 2, 30.43, 38.86), -9.4855513145339314799),
	('mbgnbd ll (1, 1.71, 38.86)', retail.mbgnbd_log_likelihood(:mb, 1, 1.71, 38.86), -4.4603606125843175318),
	('mbgnbd ll (7, 29.43, 35)', retail.mbgnbd_log_likelihood(:mb, 7, 29.43, 35), -21.306941260142728272),
	('mbgnbd ll (200, 350, 373)', retail.mbgnbd_log_likelihood(:mb, 200, 350, 373), -326.78134957580411822),
	('mbgnbd p_alive (0, 0, 38.86)', retail.mbgnbd_p_alive(:mb, 0, 0, 38.86), 0.38973508091876290007),
	('mbgnbd p_alive (2, 30.43, 38.86)', retail.mbgnbd_p_alive(:mb, 2, 30.43, 38.86), 0.7062022651184872794),
	('mbgnbd p_alive (1, 1.71, 38.86)', retail.mbgnbd_p_alive(:mb, 1, 1.71, 38.86), 0.1708364843104080255),
	('mbgnbd p_alive (7, 29.43, 35)', retail.mbgnbd_p_alive(:mb, 7, 29.43, 35), 0.76410270517430344426),
	('mbgnbd p_alive (200, 350, 373)', retail.mbgnbd_p_alive(:mb, 200, 350, 373), 0.00080332739561379599805),
	('mbgnbd expected 39 (0, 0, 38.86)', retail.mbgnbd_expected_purchases(:mb, 39, 0, 0, 38.86),
	 0.15401274667514668797),
	('mbgnbd expected 39 (2, 30.43, 38.86)', retail.mbgnbd_expected_purchases(:mb, 39, 2, 30.43, 38.86),
	 1.2629606232673657107),
	('mbgnbd expected 10 (7, 29.43, 35)', retail.mbgnbd_expected_purchases(:mb, 10, 7, 29.43, 35),
	 1.2871639195357352511),
	('mbgnbd expected 360 (200, 350, 373)', retail.mbgnbd_expected_purchases(:mb, 360, 200, 350, 373),
	 0.1118041564939571448),
	('mbgnbd clv (2, 30.43, 38.86, 46.5)', retail.mbgnbd_clv(:mb, :gg, 2, 30.43, 38.86, 46.5), 243.5430525414059281),
	('paretonbd ll (0, 0, 38.86)', retail.paretonbd_log_likelihood(:pn, 0, 0, 38.86), -0.52104629408089037401),
	('paretonbd ll (2, 30.43, 38.86)', retail.paretonbd_log_likelihood(:pn, 2, 30.43, 38.86),
	 -9.5542832451504057193),
	('paretonbd ll (1, 1.71, 38.86)', retail.paretonbd_log_likelihood(:pn, 1, 1.71, 38.86), -4.4501943338810114083),
	('paretonbd ll (7, 29.43, 35)', retail.paretonbd_log_likelihood(:pn, 7, 29.43, 35), -21.09229140249312417),
	('paretonbd ll (200, 350, 373)', retail.paretonbd_log_likelihood(:pn, 200, 350, 373), -326.99251209456580273),
	('paretonbd ll, alpha > beta (0, 0, 38.86)', retail.paretonbd_log_likelihood(:pn2, 0, 0, 38.86),
	 -0.27011250640580947171),
	('paretonbd ll, alpha > beta (2, 30.43, 38.86)', retail.paretonbd_log_likelihood(:pn2, 2, 30.43, 38.86),
	 -10.058125943254486771),
	('paretonbd ll, alpha > beta (1, 1.71, 38.86)', retail.paretonbd_log_likelihood(:pn2, 1, 1.71, 38.86),
	 -4.5790618922400182114),
	('paretonbd ll, alpha > beta (7, 29.43, 35)', retail.paretonbd_log_likelihood(:pn2, 7, 29.43, 35),
	 -22.57034208941341909),
	-- r = 0.5, alpha = 10, s = 0.8, beta = 40: 2F1's argument up to 0.75
	('paretonbd ll, beta = 40 (0, 0, 38.86)',
	 retail.paretonbd_log_likelihood((0.5, 10, 0.8, 40, NULL, NULL, NULL), 0, 0, 38.86), -0.6066549621319109),
	('paretonbd ll, beta = 40 (1, 0.5, 150)',
	 retail.paretonbd_log_likelihood((0.5, 10, 0.8, 40, NULL, NULL, NULL), 1, 0.5, 150), -4.8484892477863122),
	-- 2F1's argument near 1, where A0 is by quadrature: beta far above alpha
	-- (r = 0.82, alpha = 69, s = 0.0013, beta = 108715: the real file's days
	-- near the no-dropout edge), alpha far above beta (r = 0.5, alpha = 1e5,
	-- s = 0.8, beta = 10), and 1 - z = 0.09 (r = 1.3, alpha = 5, s = 0.6,
	-- beta = 60); and alpha = 1e-9, beta = 1e9, 1 - z = 1e-18 (mpmath at 60 digits)
	('paretonbd ll, beta = 108715 (3, 200, 300)',
	 retail.paretonbd_log_likelihood((0.82, 69, 0.0013, 108715, NULL, NULL, NULL), 3, 200, 300), -17.670154735796523),
	('paretonbd ll, beta = 108715 (50, 350, 373)',
	 retail.paretonbd_log_likelihood((0.82, 69, 0.0013, 108715, NULL, NULL, NULL), 50, 350, 373), -158.44948753822087),
	('paretonbd p_alive, beta = 108715 (0, 0, 300)',
	 retail.paretonbd_p_alive((0.82, 69, 0.0013, 108715, NULL, NULL, NULL), 0, 0, 300), 0.9999936206758459),
	('paretonbd ll, alpha = 1e5 (3, 200, 300)',
	 retail.paretonbd_log_likelihood((0.5, 1e5, 0.8, 10, NULL, NULL, NULL), 3, 200, 300), -36.355747846519175),
	('paretonbd p_alive, alpha = 1e5 (50, 350, 373)',
	 retail.paretonbd_p_alive((0.5, 1e5, 0.8, 10, NULL, NULL, NULL), 50, 350, 373), 0.95139045095203486),
	('paretonbd p_alive, alpha = 1e5 (2, 0.5, 40)',
	 retail.paretonbd_p_alive((0.5, 1e5, 0.8, 10, NULL, NULL, NULL), 2, 0.5, 40), 0.28678432083780713),
	('paretonbd ll, beta = 60 (2, 0.5, 40)',
	 retail.paretonbd_log_likelihood((1.3, 5, 0.6, 60, NULL, NULL, NULL), 2, 0.5, 40), -6.244095340830489),
	('paretonbd p_alive, beta = 60 (2, 0.5, 40)',
	 retail.paretonbd_p_alive((1.3, 5, 0.6, 60, NULL, NULL, NULL), 2, 0.5, 40), 0.032166054965450781),
	('paretonbd ll, alpha = 1e-9, beta = 1e9 (0, 0, 0.5)',
	 retail.paretonbd_log_likelihood((0.5, 1e-9, 0.5, 1e9, NULL, NULL, NULL), 0, 0, 0.5), -10.015059328943255),
	('paretonbd p_alive, alpha = 1e-9, beta = 1e9 (0, 0, 0.5)',
	 retail.paretonbd_p_alive((0.5, 1e-9, 0.5, 1e9, NULL, NULL, NULL), 0, 0, 0.5), 0.99999999950002236),
	('paretonbd p_alive (0, 0, 38.86)', retail.paretonbd_p_alive(:pn, 0, 0, 38.86), 0.29528660461689415751),
	('paretonbd p_alive (2, 30.43, 38.86)', retail.paretonbd_p_alive(:pn, 2, 30.43, 38.86), 0.869167559153011199),
	('paretonbd p_alive (1, 1.71, 38.86)', retail.paretonbd_p_alive(:pn, 1, 1.71, 38.86), 0.16800232672434490243),
	('paretonbd p_alive (7, 29.43, 35)', retail.paretonbd_p_alive(:pn, 7, 29.43, 35), 0.87939025009454555103),
	('paretonbd p_alive (200, 350, 373)', retail.paretonbd_p_alive(:pn, 200, 350, 373), 0.0013177343462884542265),
	('paretonbd p_alive, alpha > beta (2, 30.43, 38.86)', retail.paretonbd_p_alive(:pn2, 2, 30.43, 38.86),
	 0.85444848969866428265),
	('paretonbd p_alive, recency = age (3, 20, 20)', retail.paretonbd_p_alive(:pn, 3, 20, 20), 1),
	('paretonbd expected 39 (0, 0, 38.86)', retail.paretonbd_expected_purchases(:pn, 39, 0, 0, 38.86),
	 0.10708146821530886056),
	('paretonbd expected 39 (2, 30.43, 38.86)', retail.paretonbd_expected_purchases(:pn, 39, 2, 30.43, 38.86),
	 1.4551231932576025029),
	('paretonbd expected 10 (7, 29.43, 35)', retail.paretonbd_expected_purchases(:pn, 10, 7, 29.43, 35),
	 1.3722138925887260956),
	('paretonbd expected 360 (200, 350, 373)', retail.paretonbd_expected_purchases(:pn, 360, 200, 350, 373),
	 0.19995863566025686356),
	('paretonbd expected, alpha > beta', retail.paretonbd_expected_purchases(:pn2, 39, 2, 30.43, 38.86),
	 1.1751871400012416061),
	('paretonbd expected, s = 1',
	 retail.paretonbd_expected_purchases((0.553, 10.578, 1, 11.669, NULL, NULL, NULL), 39, 2, 30.43, 38.86),
	 1.1860522822793437513),
	('paretonbd clv day (2, 30.43, 38.86, 46.5)', retail.paretonbd_clv(:pn, :gg, 2, 30.43, 38.86, 46.5),
	 311.57223369444801708),
	('paretonbd clv week (2, 30.43, 38.86, 46.5)', retail.paretonbd_clv(:pn, :gg, 2, 30.43, 38.86, 46.5, 12, 0.01, 'week'),
	 76.821219856861031491);
SELECT what, reference, abs(ours::numeric - reference) <= 1e-12 * abs(reference) AS within_1e_12
FROM btyd_models_test.reference;
-- BTYD's R walkthrough: P(alive) 0.9979 at its CDNOW fit, (26, 30.86, 31)
SELECT round(retail.paretonbd_p_alive((0.5534, 10.5802, 0.6061, 11.6562, NULL, NULL, NULL), 26, 30.86, 31)::numeric,
			 4) AS btyd_walkthrough;
-- no purchases in no time
SELECT retail.mbgnbd_expected_purchases(:mb, 0, 2, 30.43, 38.86) AS mbgnbd_none,
	   retail.paretonbd_expected_purchases(:pn, 0, 2, 30.43, 38.86) AS paretonbd_none;

-- 2. Parameters recovered from customers simulated with known ones
-- (continuous times): modified BG/NBD r = 0.25, alpha = 4, a = 0.8, b = 2.5
-- over ages up to 40 (400000 customers: a third drop out at their first
-- purchase, which leaves a and b less determined than in BG/NBD);
-- Pareto/NBD r = 0.5, alpha = 10, s = 0.8, beta = 40 over ages up to 200.
-- Each within 10 % (they are within 3 %).
SELECT abs((m).r / 0.25 - 1) < 0.1 AS r, abs((m).alpha / 4 - 1) < 0.1 AS alpha,
	   abs((m).a / 0.8 - 1) < 0.1 AS a, abs((m).b / 2.5 - 1) < 0.1 AS b, (m).customers, (m).converged
FROM (SELECT retail.mbgnbd_fit(frequency, recency, age) AS m
	  FROM retail.simulate_btyd_customers(400000, 0.25, 4.0, 0.8, 2.5, 40, 7, model => 'mbgnbd')) f;
CREATE TABLE btyd_models_test.pareto AS
SELECT * FROM retail.simulate_btyd_customers(50000, 0.5, 10, 0.8, 40, 200, 42, false, 'paretonbd');
CREATE TABLE btyd_models_test.pareto_fits AS
SELECT retail.bgnbd_fit(frequency, recency, age) AS b, retail.mbgnbd_fit(frequency, recency, age) AS m,
	   retail.paretonbd_fit(frequency, recency, age) AS p
FROM btyd_models_test.pareto;
SELECT abs((p).r / 0.5 - 1) < 0.1 AS r, abs((p).alpha / 10 - 1) < 0.1 AS alpha,
	   abs((p).s / 0.8 - 1) < 0.1 AS s, abs((p).beta / 40 - 1) < 0.1 AS beta, (p).customers, (p).converged
FROM btyd_models_test.pareto_fits;
-- on customers with dropout, the model that drew them fits them best
SELECT (p).log_likelihood > (b).log_likelihood AND (p).log_likelihood > (m).log_likelihood AS pareto_best
FROM btyd_models_test.pareto_fits;
-- the fit's log-likelihood is the sum of the customers'
CREATE TABLE btyd_models_test.small AS
SELECT * FROM retail.simulate_btyd_customers(2000, 0.5, 10, 0.8, 40, 100, 3, false, 'paretonbd');
SELECT abs((SELECT (retail.mbgnbd_fit(frequency, recency, age)).log_likelihood FROM btyd_models_test.small)
		   - (SELECT sum(retail.mbgnbd_log_likelihood(m, frequency, recency, age))
			  FROM btyd_models_test.small,
				   (SELECT retail.mbgnbd_fit(frequency, recency, age) m FROM btyd_models_test.small) f))
	   < 1e-9 AS mbgnbd_sum,
	   abs((SELECT (retail.paretonbd_fit(frequency, recency, age)).log_likelihood FROM btyd_models_test.small)
		   - (SELECT sum(retail.paretonbd_log_likelihood(m, frequency, recency, age))
			  FROM btyd_models_test.small,
				   (SELECT retail.paretonbd_fit(frequency, recency, age) m FROM btyd_models_test.small) f))
	   < 1e-9 AS paretonbd_sum;
-- the simulator: another model, other rows; a model it does not know
SELECT (SELECT array_agg(s ORDER BY customer_id) FROM retail.simulate_bgnbd_customers(50, 0.5, 2, 1, 3, 10, 5) s)
	   = (SELECT array_agg(s ORDER BY customer_id) FROM retail.simulate_btyd_customers(50, 0.5, 2, 1, 3, 10, 5) s)
	   AS bgnbd_default,
	   (SELECT array_agg(s ORDER BY customer_id) FROM retail.simulate_bgnbd_customers(50, 0.5, 2, 1, 3, 10, 5) s)
	   = (SELECT array_agg(s ORDER BY customer_id)
		  FROM retail.simulate_btyd_customers(50, 0.5, 2, 1, 3, 10, 5, false, 'mbgnbd') s) AS mbgnbd_same;
SELECT count(*) FROM retail.simulate_btyd_customers(5, 1, 1, 1, 1, 10, model => 'pareto');

-- 3. Serial against forced parallel: the same bits
CREATE TABLE btyd_models_test.big AS
SELECT * FROM retail.simulate_btyd_customers(60000, 0.5, 10, 1, 3, 365, 11, true, 'mbgnbd');
CREATE TABLE btyd_models_test.serial AS
SELECT retail.mbgnbd_fit(frequency, recency, age) AS mbgnbd, retail.paretonbd_fit(frequency, recency, age) AS paretonbd
FROM btyd_models_test.big;
\i test/force_parallel.sql
EXPLAIN (COSTS OFF)
SELECT retail.mbgnbd_fit(frequency, recency, age), retail.paretonbd_fit(frequency, recency, age)
FROM btyd_models_test.big;
SELECT s.mbgnbd = p.mbgnbd AS mbgnbd_same, s.paretonbd = p.paretonbd AS paretonbd_same, (s.mbgnbd).customers
FROM btyd_models_test.serial s,
	 (SELECT retail.mbgnbd_fit(frequency, recency, age) AS mbgnbd, retail.paretonbd_fit(frequency, recency, age) AS paretonbd
	  FROM btyd_models_test.big) p;
\i test/reset_parallel.sql
SELECT (s.mbgnbd).log_likelihood > (s.paretonbd).log_likelihood
	   AND (s.mbgnbd).log_likelihood > (SELECT (retail.bgnbd_fit(frequency, recency, age)).log_likelihood
									   FROM btyd_models_test.big) AS mbgnbd_best
FROM btyd_models_test.serial s;
-- in a window, re-run on one state
SELECT count(DISTINCT w) AS results,
	   bool_and(w = (SELECT retail.paretonbd_fit(frequency, recency, age) FROM btyd_models_test.small
					 WHERE customer_id <= 1000)) AS as_aggregate
FROM (SELECT retail.paretonbd_fit(frequency, recency, age)
			 OVER (ORDER BY customer_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS w
	  FROM btyd_models_test.small WHERE customer_id <= 1000) x;

-- 4. Errors, and predictions that cannot be computed
SELECT retail.mbgnbd_fit(frequency, recency, age) FROM btyd_models_test.small WHERE false;
SELECT retail.paretonbd_fit(0, 0, age) FROM btyd_models_test.small;
SELECT retail.mbgnbd_fit(1, 5, 4);
SELECT retail.paretonbd_fit(0, 1, 4);
SELECT retail.paretonbd_fit(1, 'NaN', 4);
SELECT retail.mbgnbd_p_alive((NULL, 1, 1, 1, NULL, NULL, NULL), 1, 1, 2);
SELECT retail.paretonbd_p_alive((1, 1, 0, 1, NULL, NULL, NULL), 1, 1, 2);
SELECT retail.paretonbd_expected_purchases(:pn, -1, 1, 1, 2);
SELECT retail.mbgnbd_expected_purchases(:mb, 'Infinity', 1, 1, 2);
SELECT retail.paretonbd_log_likelihood(:pn, 1, 3, 2);
SELECT retail.paretonbd_clv(:pn, :gg, 1, 1, 2, 10, 1201);
-- a quadrature that would need more than 1000 panels of its h (here (1 +
-- u)^-1000.5 over u up to 1e6): NULL, with a NOTICE
SELECT retail.paretonbd_p_alive((0.5, 1, 0.5, 1e-9, NULL, NULL, NULL), 1000, 0.001, 1e6) AS p_alive,
	   retail.paretonbd_log_likelihood((0.5, 1, 0.5, 1e-9, NULL, NULL, NULL), 1000, 0.001, 1e6) AS ll;
-- (1 - s) log1p(t / (beta + T)) past 709: the bracket overflows, NULL
SELECT retail.paretonbd_expected_purchases((0.5, 10, 1e-3, 1e-300, NULL, NULL, NULL), 1e300, 1, 1, 2) AS overflow;

DROP SCHEMA btyd_models_test CASCADE;
