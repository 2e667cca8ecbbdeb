#!/usr/bin/env python3
"""Write a synthetic nginx `combined` access log for benches/learn.sh.

usage: learn_log.py OUT SIZE_MB [SEED]

About one day (UTC) of a multi-tenant shop API: 12 endpoint shapes (numeric ids,
hex ids, UUIDs, slugs, query strings), 5,000 tenants drawn Zipf(1.1), a
diurnal curve, Poisson arrivals, one 10-minute spike, 1% 5xx, varied user agents and client
addresses. Lines are written in time order (as nginx writes them) until the
file reaches SIZE_MB megabytes. Deterministic for a seed.
"""
import bisect
import random
import sys
import time
import uuid

out, size_mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
limit = size_mb * 1_000_000
HOURLY = [0.25, 0.2, 0.18, 0.18, 0.2, 0.3, 0.5, 0.75, 0.9, 1.0, 1.0, 0.95,
          0.95, 1.0, 1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.65, 0.5, 0.4, 0.3]
T0 = 1764979200  # 2025-12-06T00:00:00Z
w = [k ** -1.1 for k in range(1, 5001)]
cum, acc = [], 0.0
for x in w:
    acc += x / sum(w)
    cum.append(acc)
tenants = ["tenant-%05d" % i for i in range(5000)]
uas = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
       "okhttp/4.12.0", "curl/8.4.0", "python-requests/2.31.0"]
words = ["shoe", "hat", "sock", "coat", "scarf", "glove", "belt", "boot"]


def path(t):
    r = rng.random()
    if r < 0.30:
        return "GET", "/api/v1/t/%s/products/%d" % (t, int(rng.paretovariate(1.1) * 100))
    if r < 0.45:
        return "GET", "/api/v1/t/%s/search?q=%s&page=%d" % (t, rng.choice(words), rng.randint(1, 9))
    if r < 0.55:
        return "GET", "/api/v1/t/%s/orders/%d" % (t, rng.randint(1_000_000, 9_999_999))
    if r < 0.62:
        return "POST", "/api/v1/t/%s/orders" % t
    if r < 0.70:
        return "GET", "/api/v1/t/%s/carts/%s" % (t, uuid.UUID(int=rng.getrandbits(128), version=4))
    if r < 0.76:
        return "PUT", "/api/v1/t/%s/carts/%s/items/%d" % (t, "%024x" % rng.getrandbits(96), rng.randint(1, 200))
    if r < 0.82:
        return "GET", "/api/v1/t/%s/categories/%s" % (t, rng.choice(words))
    if r < 0.88:
        return "GET", "/static/app.%s.js" % rng.choice(["a1b2c3d4", "e5f6a7b8"])
    if r < 0.92:
        return "GET", "/healthz"
    if r < 0.95:
        return "DELETE", "/api/v1/t/%s/sessions/%s" % (t, "%032x" % rng.getrandbits(128))
    if r < 0.98:
        return "GET", "/api/v1/t/%s/users/%d/profile" % (t, rng.randint(1, 500_000))
    return "POST", "/api/v1/t/%s/payments?currency=%s" % (t, rng.choice(["EUR", "USD"]))


# Peak rate chosen so that SIZE_MB covers about one day (lines average ~168 bytes: the measured mean, request lines included).
PEAK = limit / (86400 * sum(HOURLY) / 24 * 168)
written = 0
sec = 0
with open(out, "w") as f:
    while written < limit:
        h = (sec // 3600) % 24
        rate = PEAK * HOURLY[h] * (3 if 14 * 3600 <= sec % 86400 < 14 * 3600 + 600 else 1)
        # Poisson arrivals: count exponential gaps within the second.
        n, t = 0, rng.expovariate(rate)
        while t < 1.0:
            n += 1
            t += rng.expovariate(rate)
        lines = []
        for _ in range(n):
            t = tenants[bisect.bisect(cum, rng.random())]
            m, p = path(t)
            end = T0 + sec + rng.random()
            rt = rng.expovariate(1 / 0.04)
            status = 503 if rng.random() < 0.01 else (201 if m == "POST" else 200)
            lines.append('%d.%d.%d.%d - - [%s +0000] "%s %s HTTP/1.1" %d %d "-" "%s"\n' % (
                rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254),
                time.strftime("%d/%b/%Y:%H:%M:%S", time.gmtime(end)), m, p, status,
                rng.randint(100, 20000), rng.choice(uas)))
        s = "".join(lines)
        f.write(s)
        written += len(s)
        sec += 1
print("wrote %s: %d bytes, %d seconds of log" % (out, written, sec))
