#!/usr/bin/env python3
"""Checks files written by detect_corpus.py and prints their summary.

    python3 benches/detect_corpus_check.py [--seed S] [--phone-shapes] FILE...

For every line: valid JSON with exactly generator/text/spans; kinds known; spans sorted,
non-overlapping, inside the text and on UTF-8 character boundaries; the bytes of each
span decode to a value that passes its kind's validator, and the characters around it do
not continue it. With --seed (the seed the file was generated with), the lines are
generated again in memory and each span must decode to exactly the value planted there,
and the values dropped as invalid are listed.
"""
import argparse
import json
import os
import re
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detect_corpus as dc  # noqa: E402

CARD_NETS = ("visa", "mastercard", "amex", "discover", "jcb", "diners", "maestro", "unionpay", "mir")
TOKEN_RULES = tuple(dc.TOKEN_RES)
CONTINUES = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@+")


def kind_ok(kind, v, before):
    if kind == "card":
        return any(dc.check_card(v, n) is None for n in CARD_NETS)
    if kind == "national_id":
        return any(f(v) is None for f in dc.NID_CHECK.values())
    if kind == "phone":
        return dc.check_phone(v) is None
    if kind == "token":
        if any(dc.check_token(v, r) is None for r in TOKEN_RULES):
            return True
        m = re.search(r"(\w+)(?:=|: )$", before)
        return bool(m and m.group(1) in dc.ASSIGN_KEYS and dc.check_token(v, "secret_assignment") is None)
    return dc.check(kind, v, kind) is None


def shape(v):
    s = re.sub(r"\d", "#", v)
    return re.sub(r"(x|ext\.?) ?#+$", r"\1#…", s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--phone-shapes", action="store_true")
    args = ap.parse_args()
    bad = 0
    for fn in args.files:
        per_kind = Counter()
        lines = no_pii = 0
        gens = Counter()
        phones = defaultdict(dict)
        regen = None
        with open(fn, encoding="utf-8") as f:
            for ln, raw in enumerate(f, 1):
                def fail(msg):
                    nonlocal bad
                    bad += 1
                    if bad <= 20:
                        print("%s:%d: %s" % (fn, ln, msg))
                rec = json.loads(raw)
                if set(rec) != {"generator", "text", "spans"}:
                    fail("keys %s" % sorted(rec))
                    continue
                gen, text, spans = rec["generator"], rec["text"], rec["spans"]
                name, _, locale = gen.partition("/")
                if args.seed is not None and regen is None:
                    src = dc.FakerSource(args.seed) if name == "faker" else dc.MimesisSource(args.seed)
                    rng = dc.random.Random(dc.derive(args.seed, name, "lines"))
                    stats = dc.Stats()
                    regen = (src, rng, stats)
                lines += 1
                gens[gen] += 1
                b = text.encode()
                last = 0
                vals = []
                for sp in spans:
                    if not (isinstance(sp, list) and len(sp) == 3 and sp[2] in dc.KINDS):
                        fail("bad span %r" % (sp,))
                        continue
                    s, e, k = sp
                    if not (last <= s < e <= len(b)):
                        fail("span %r unsorted, overlapping or out of range" % (sp,))
                    last = e
                    try:
                        v = b[s:e].decode("utf-8")
                        before = b[:s].decode("utf-8")
                        after = b[e:].decode("utf-8")
                    except UnicodeDecodeError:
                        fail("span %r not on a character boundary" % (sp,))
                        continue
                    vals.append(v)
                    if not kind_ok(k, v, before):
                        fail("span %r = %r is not a valid %s" % (sp, v, k))
                    if (before and before[-1] in CONTINUES | {".", "-"}) or \
                       (after and (after[0] in CONTINUES or (after[:1] in ".-" and after[1:2] in CONTINUES))):
                        fail("span %r = %r is continued by its neighbours" % (sp, v))
                    per_kind[k] += 1
                    if k == "phone":
                        phones[locale].setdefault(shape(v), v)
                if not spans:
                    no_pii += 1
                if regen:
                    src, rng, stats = regen
                    loc2, text2, spans2 = dc.make_line(src, rng, stats)
                    if (name, loc2, text2) != (src.name, locale, text):
                        fail("differs from the regenerated line")
                    elif [[s2, e2, p.kind] for s2, e2, p in spans2] != spans:
                        fail("spans differ from the regenerated line")
                    elif [p.value for _, _, p in spans2] != vals:
                        fail("a span does not decode to the planted value")
        print("%s: %d lines, %d with no spans, %d locales" % (fn, lines, no_pii, len(gens)))
        print("  spans: " + ", ".join("%s %d" % (k, per_kind[k]) for k in dc.KINDS)
              + ", total %d" % sum(per_kind.values()))
        if regen:
            stats = regen[2]
            print("  regenerated with seed %d: every span equals its planted value" % args.seed
                  if not bad else "  regenerated with seed %d" % args.seed)
            print("  values dropped as invalid: %d" % sum(stats.dropped.values()))
            for k, n in sorted(stats.dropped.items(), key=lambda kv: (-kv[1], kv[0])):
                print("    %6d  %s" % (n, k))
        if args.phone_shapes:
            print("  phone shapes per locale (# = digit), one example each:")
            for loc in sorted(phones):
                items = sorted(phones[loc].items())
                print("    %s (%d): %s" % (loc, len(items), "  ".join(v for _, v in items)))
    if bad:
        print("FAILED: %d problems" % bad)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
