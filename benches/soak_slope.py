#!/usr/bin/env python3
"""Slope of RSS and open fds over the last 5/6 of a soak (benches/soak.sh).

    python3 benches/soak_slope.py SAMPLES.csv [NAME]

SAMPLES.csv has the columns seconds,rss_bytes,fds (one sample every 10 s).
The first sixth of the samples (SOAK_SKIP, a fraction) is left out
(start-up: buffers, pools and caches filling), the rest is fitted with an ordinary least-squares line.
Printed: the slope in bytes/minute and fds/minute with its standard error,
and a verdict per quantity:

  flat within noise  when |slope| <= 2 standard errors (the trend is not
                     distinguishable from noise), or when the drift the slope
                     predicts over the window is under 1 MiB and under 1% of
                     the mean RSS (for fds: under 1 fd);
  GROWING/SHRINKING  otherwise.

Exit 0 when both are flat, 1 when one is not, 2 with too few samples.
Python 3 standard library only.
"""

import csv
import math
import os
import sys


def fit(xs, ys):
    """Least-squares slope and its standard error."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx if sxx else 0.0
    resid = [y - (my + slope * (x - mx)) for x, y in zip(xs, ys)]
    se = math.sqrt(sum(r * r for r in resid) / (n - 2) / sxx) if n > 2 and sxx else 0.0
    return slope, se, my


def verdict(slope, se, window_min, floor):
    if abs(slope) <= 2 * se or abs(slope) * window_min < floor:
        return "flat within noise"
    return "GROWING" if slope > 0 else "SHRINKING"


def main():
    path = sys.argv[1]
    name = sys.argv[2] if len(sys.argv) > 2 else path
    rows = [(float(r["seconds"]), float(r["rss_bytes"]), float(r["fds"])) for r in csv.DictReader(open(path))]
    if len(rows) < 6:
        print(f"    {name}: only {len(rows)} samples; run longer (at least 6 samples)")
        return 2
    # SOAK_SKIP: the share of the samples left out as start-up (1/6: the
    # first 10 minutes of an hour). A batch job of seconds fills its bounded
    # buffers over a larger share of its life; the docs give both fits.
    skip = float(os.environ.get("SOAK_SKIP", 1 / 6))
    rows = rows[int(len(rows) * skip) :]
    mins = [r[0] / 60 for r in rows]
    window = mins[-1] - mins[0]
    rss_slope, rss_se, rss_mean = fit(mins, [r[1] for r in rows])
    fd_slope, fd_se, fd_mean = fit(mins, [r[2] for r in rows])
    rss_v = verdict(rss_slope, rss_se, window, min(1 << 20, 0.01 * rss_mean))
    fd_v = verdict(fd_slope, fd_se, window, 1.0)
    print(
        f"    {name}: {len(rows)} samples over the last {window:.1f} min; "
        f"RSS mean {rss_mean / 2**20:.1f} MiB, slope {rss_slope:+.0f} ± {rss_se:.0f} bytes/min: {rss_v}; "
        f"fds mean {fd_mean:.1f}, slope {fd_slope:+.3f} ± {fd_se:.3f} fds/min: {fd_v}"
    )
    return 0 if rss_v == fd_v == "flat within noise" else 1


if __name__ == "__main__":
    sys.exit(main())
