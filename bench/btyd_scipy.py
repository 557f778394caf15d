#!/usr/bin/python3
"""The BTYD fits of retail.bgnbd_fit / retail.gamma_gamma_fit the way the Python
package lifetimes does them: the log-likelihood written in numpy, minimized by
scipy.optimize: Nelder-Mead on the log-parameters from all of them at 1
(lifetimes' BaseFitter and start).

Reads customers as CSV lines "frequency,recency,age" (bgnbd) or
"frequency,monetary_value" (gamma_gamma) on stdin, without a header, and
prints one line: the model, the parameters, the log-likelihood (the sum over
the customers, as retail.*_fit reports it), the function evaluations and the
seconds of the fit alone (reading excluded).

  bench/btyd_scipy.py bgnbd < customers.csv
  bench/btyd_scipy.py bgnbd --compress < customers.csv   distinct rows with weights

Needs Debian's python3-numpy and python3-scipy.
"""
import argparse
import sys
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln


def bgnbd_nll(log_params, x, t_x, T, w):
    """Minus the mean BG/NBD log-likelihood (Fader, Hardie & Lee 2005), as lifetimes writes it."""
    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(t_x + alpha)
    top = np.maximum(a3, a4)
    ll = a1 + a2 + np.log(np.exp(a3 - top) + np.exp(a4 - top) * (x > 0)) + top
    return -(w * ll).sum() / w.sum()


def gamma_gamma_nll(log_params, x, m, w):
    """Minus the mean Gamma-Gamma log-likelihood, as lifetimes writes it."""
    p, q, v = np.exp(log_params)
    ll = (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
          + (p * x - 1) * np.log(m) + (p * x) * np.log(x) - (p * x + q) * np.log(x * m + v))
    return -(w * ll).sum() / w.sum()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["bgnbd", "gamma_gamma"])
    parser.add_argument("--compress", action="store_true",
                        help="fit the distinct rows, weighted by their counts")
    args = parser.parse_args()
    data = np.loadtxt(sys.stdin, delimiter=",", ndmin=2)
    if args.model == "gamma_gamma":
        data = data[data[:, 0] > 0]
    if args.compress:
        data, counts = np.unique(data, axis=0, return_counts=True)
        weights = counts.astype(float)
    else:
        weights = np.ones(len(data))
    columns = [data[:, k] for k in range(data.shape[1])]
    if args.model == "bgnbd":
        nll, start, names = bgnbd_nll, np.ones(4), ["r", "alpha", "a", "b"]
    else:
        nll, start, names = gamma_gamma_nll, np.ones(3), ["p", "q", "gamma"]
    started = time.perf_counter()
    result = minimize(nll, start, args=(*columns, weights), method="Nelder-Mead",
                      options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 20000, "maxfev": 20000})
    seconds = time.perf_counter() - started
    params = np.exp(result.x)
    print("%s rows=%d %s log_likelihood=%.10f evaluations=%d converged=%s seconds=%.3f" % (
        args.model, len(data), " ".join("%s=%.10g" % (n, v) for n, v in zip(names, params)),
        -result.fun * weights.sum(), result.nfev, result.success, seconds))


if __name__ == "__main__":
    main()
