#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets into fuzz/corpus/.

Seeds come from the repository's own fixtures (the head of each dump, a few
KB, cut between records; the same rows as COPY text and JSON lines; the
rules files and the rules examples of the README and docs/) and from hand-written edge
cases. Run it from anywhere; it only adds files (named after their
content, like libFuzzer's), so an existing corpus keeps what it has.
"""

import csv
import hashlib
import io
import json
import re
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"
LIMIT = 3000  # bytes of each fixture dump kept


def put(target: str, data) -> None:
    if isinstance(data, str):
        data = data.encode()
    assert len(data) <= 64 * 1024, (target, len(data))
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def head_rows(path: Path):
    """The header and the first rows of a CSV dump, about LIMIT bytes."""
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, out, size = rows[0], [], 0
    for r in rows[1:]:
        size += sum(len(v) + 1 for v in r)
        if size > LIMIT:
            break
        out.append(r)
    return header, out


def to_csv(header, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def copy_field(v: str) -> str:
    if v == "":
        return "\\N"
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def to_copy(header, rows) -> str:
    lines = ["\t".join(copy_field(h) for h in header)]
    lines += ["\t".join(copy_field(v) for v in r) for r in rows]
    return "\n".join(lines) + "\n"


def to_jsonl(header, rows) -> str:
    out = []
    for r in rows:
        obj = {}
        for k, v in zip(header, r):
            if v == "":
                obj[k] = None
            elif re.fullmatch(r"-?[0-9]{1,15}", v) and k in ("id", "user_id", "total_cents"):
                obj[k] = int(v)
            else:
                obj[k] = v
        out.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(out) + "\n"


def dumps():
    yield head_rows(ROOT / "fixtures/dump/users.csv")
    yield head_rows(ROOT / "fixtures/dump/orders.csv")
    for locale in sorted(p for p in (ROOT / "fixtures/faker").iterdir() if p.is_dir()):
        for table in ("users.csv", "orders.csv", "tickets.csv"):
            if locale.name != "en_US" and table != "users.csv" and locale.name != "ja_JP":
                continue  # the other locales' orders and tickets add little
            yield head_rows(locale / table)


USERS = "id,tenant_id,email,name,phone,birth_date,notes,ssn\n"
CSV_EDGES = [
    USERS + '1,t-1,a@b.example,"Doe, Jane","+1 415-555-0123",1990-04-12,"say ""hi""\nsecond line",123-45-6789\n',
    USERS.replace("\n", "\r\n") + "1,t,a@b.c,n,p,2024-02-29,x,s\r\n2,t,,,,,,\r\n",
    USERS + "1,t,a@b.c,n,p,1990-01-01,\"never closed\n2,t,a@b.c,n,p,1990-01-01,ok,s\n",
    USERS + '1,t,a@b.c,n,p,1990-01-01,stray"quote,s\n1,t,a@b.c,n,p,1990-01-01,"x"y,s\n',
    USERS + "1,t,a@b.c\n1,t,a@b.c,n,p,1990-01-01,x,s,extra\n",
    "\ufeff" + USERS + "1,t,a@b.c,n,p,1990-01-01,x,s",
    USERS.encode() + b"1,t,\xff\xfe@b.c,n,p,1990-01-01,x\xc3,s\n",
    USERS + ',,,,,,,\n"","","","","","","",""\n',
    "id,id\n1,2\n",
    "id,,email\n",
    "",
    "\n\n\n",
    USERS + "99999999999999999999999,t,a@b.c,n,p,9999-12-31,x,s\n-0,t,A@B.C,n,p,0000-01-01,x,s\n",
    "id,user_id,total_cents,shipping_address,card_last4\n1,2,1e308,\"1 Main St, X\",4242\n2,3,-0.005,,\n",
    "id,user_id,subject,body\n1,2,s,\"mail a@b.example or call +44 20 7946 0958\"\n",
]
COPY_USERS = "id\ttenant_id\temail\tname\tphone\tbirth_date\tnotes\tssn\n"
COPY_EDGES = [
    COPY_USERS + "1\tt\ta@b.c\tn\tp\t1990-01-01\ta\\tb\\\\c\\nd\\r\\b\\f\\v\t\\N\n",
    COPY_USERS + "1\tt\ta@b.c\tn\tp\t1990-01-01\t\\101\\x42\\0\\777\\x\\xg\\q\ts\n",
    COPY_USERS + "1\tt\ta@b.c\tn\tp\t1990-01-01\ttrailing\\\ts\n",
    COPY_USERS + "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n\t\t\t\t\t\t\t\n\\.\n",
    COPY_USERS.replace("\n", "\r\n") + "1\tt\ta@b.c\tn\tp\t1990-01-01\tx\ts\r\n",
    COPY_USERS.encode() + b"1\tt\t\\xff\\xfe\tn\tp\t1990-01-01\t\xff\ts\n",
    "\ufeff" + COPY_USERS + "1\tt\ta@b.c\tn\tp\t1990-01-01\tx\ts",
    "id\t\\N\n",
    "id\tid\n",
    "",
    "\\\n",
]
JSONL_EDGES = [
    '{"id": 1, "email": "a@b.example", "name": "Jane", "phone": null, "birth_date": "1990-04-12",'
    ' "notes": {"text": ["call +1 415-555-0123", {"x": "a@b.example"}]}, "ssn": "123-45-6789", "extra": true}\n',
    '{"id": "1", "email": 5, "name": false, "phone": [1,2], "birth_date": 1.5e3, "notes": "\\u00e9\\ud83d\\ude00", "ssn": null}\n',
    '{"id": 1}\n\n   \n{"id": 2, "id": 3}\n[1,2]\n"text"\nnull\n{"id": 1,}\n{"id": "\\ud800"}\n',
    '\ufeff{"id": 1, "email": "a@b.c", "name": "n", "phone": "p", "birth_date": "1990-01-01", "notes": "x", "ssn": "s"}\r\n',
    b'{"id": 1, "notes": "\xff\xfe"}\n',
    '{"id": 18446744073709551616, "total_cents": -0.0, "user_id": 1e400, "shipping_address": "x", "card_last4": "4242"}\n',
    '{"id": 1, "user_id": 2, "subject": "s", "body": "b", "unknown": 1}\n',
    '{"notes": ' + "[" * 200 + "]" * 200 + "}\n",
    '{"notes": ' + "[" * 200 + "\n",
    '{"notes": ' + '{"a":' * 130 + "1" + "}" * 130 + "}\n",
    "",
]
RULES_EDGES = [
    "key: ${file:fuzzing-key.txt}\ntables:\n  t:\n    columns:\n      a: keep\n      b: drop\n      c: null\n      d: ~\n"
    "      e: redact\n      f: {keep: true}\n      g: {drop: false}\n",
    "key: ${file:fuzzing-key.txt}\nlocale: de_de\nunlisted_columns: drop\ntables:\n  t:\n    identity: [a, z]\n"
    "    unlisted_columns: keep\n    columns:\n      a: {pseudonymize: {as: uuid}}\n      b: {pseudonymize: {same_as: t.a, as: uuid}}\n"
    "      c: {fake: first_name, locale: fr_fr}\n      d: {mask: {keep_first: 4294967295, keep_last: 1, with: '\u00e9'}}\n"
    "      e: {shift_date: {max: 365000d}}\n      f: {noise: {relative: 99.999%}}\n      g: {redact: {kinds: [email, phone, card, iban, ip, national_id, token], row_values: false}}\n",
    "key: ${file:fuzzing-key.txt}\ntables:\n  t:\n    columns:\n      a: {pseudonymize: {same_as: t.b}}\n      b: {pseudonymize: {same_as: t.a}}\n",
    "key: ${file:fuzzing-key.txt}\ntables:\n  t:\n    columns:\n      a: {mask: {all: true, keep_last: 1}}\n      b: {shift_date: {max: 36h}}\n      c: {noise: {relative: 0%}}\n",
    "key: ${env:LOADLINE_FUZZ_NO_SUCH_VARIABLE}\ntables: {t: {columns: {a: keep}}}\n",
    "key: ${file:no-such-file}\ntables: {t: {columns: {a: keep}}}\n",
    "key: short-literal\ntables: {}\n",
    "key: ${file:fuzzing-key.txt}\ntables: &t {t: {columns: {a: keep}}}\nunlisted_columns: *t\n",
    "---\nkey: a\n---\nkey: b\n",
    "key: !!binary aGVsbG8=\ntables: [1, 2]\n",
    "key: ${file:fuzzing-key.txt}\ntables:\n  t:\n    columns:\n      a: {fake: nmae}\n      b: redcat\n",
    "\t- x\n  : y\n",
    "{" * 100 + "}" * 100,
    "a: &a [*a]\n",
    "",
]

DETECT_EDGES = [
    "card 4111 1111 1111 1111 exp 12/27, amex 3782-822463-10005, jcb 180053733300793",
    "IBAN GB82 WEST 1234 5698 7654 32 / DE89370400440532013000 / fr1420041010050500013m02606",
    "call +1 (415) 555-0123 ext. 45 or 001-267-618-3225x123, +44 20 7946 0958, 0612345678",
    "mail \"john..doe\"@example.com, bob+tag@mail.example.co.uk, 田中@例え.jp",
    "from 10.1.2.3 and 2001:db8::8a2e:370:7334 (::ffff:192.0.2.1), mac 00:1A:2B:3C:4D:5E",
    "ssn 123-45-6789, NINO AB123456C, DNI 12345678Z, CPF 123.456.789-09, SIN 046 454 286",
    "カード4111111111111111で支払い、電話090-1234-5678",
    "password=hunter2secret token: ghp_1234567890abcdefghijklmnopqrstuvwxyz12",
    "x 1234567@intranet.c0rp, [EMAIL] [NUMBER] [CARD]4111111111111111[PHONE]",
    "1.2.3.4.5 v1.2.3 2024-01-15T10:00:00Z 12/2024 e29b-4111 1234 5678 9012 3456 7890 12",
    "",
]


def detect_seeds():
    """Free-text cells of the other generators' dumps, a few per locale."""
    for locale in sorted(p for p in (ROOT / "fixtures/faker").iterdir() if p.is_dir()):
        for table, column in (("users.csv", "notes"), ("tickets.csv", "body")):
            with open(locale / table, encoding="utf-8", newline="") as f:
                cells = [r[column] for r in csv.DictReader(f) if r.get(column)]
            yield from cells[:12]


def main() -> None:
    for header, rows in dumps():
        put("scrub_csv", to_csv(header, rows))
        put("scrub_copy", to_copy(header, rows))
        put("scrub_jsonl", to_jsonl(header, rows))
    for s in CSV_EDGES:
        put("scrub_csv", s)
    for s in COPY_EDGES:
        put("scrub_copy", s)
    for s in JSONL_EDGES:
        put("scrub_jsonl", s)
    for path in sorted((ROOT / "fixtures").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        put("scrub_rules", text)
        put("scrub_rules", text.replace("${env:LOADLINE_SCRUB_KEY}", "${file:fuzzing-key.txt}"))
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    docs = "".join(p.read_text(encoding="utf-8") for p in pages)
    for block in re.findall(r"```yaml\n(.*?)```", docs, re.S):
        if "columns:" in block and "key:" in block:
            put("scrub_rules", block.replace("${env:LOADLINE_SCRUB_KEY}", "${file:fuzzing-key.txt}"))
    for s in RULES_EDGES:
        put("scrub_rules", s)
    for s in DETECT_EDGES:
        put("detect", s)
    for s in detect_seeds():
        put("detect", s)
    # The rules the dump targets scrub with (loadline::scrub::fuzzing::RULES).
    src = (ROOT / "src/scrub/fuzzing.rs").read_text(encoding="utf-8")
    m = re.search(r'pub const RULES: &str = "\\\n(.*?)";', src, re.S)
    if m:
        put("scrub_rules", m.group(1))


def yaml_blocks(*needles):
    """The YAML examples of the README and docs/ holding every needle."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    docs = "".join(p.read_text(encoding="utf-8") for p in pages)
    for block in re.findall(r"```yaml\n(.*?)```", docs, re.S):
        if all(n in block for n in needles):
            yield block


UNITS = [
    "250ms", "2s", "1m30s", "24h", "1.5s", "0", "30d", "1h 30m", "5min", "2 hours",
    "1,000s", "-1s", "1e30s", "36525d", "999999999999h", "1ns", "0.000000001s",
    "2000/s", "120/m", "10k/s", "5/h", "1/1ns", "1e308/s", "1/250ms", "0/s",
    "0.1%", "99.9%", "5%", "100%", "100.0000000001%", "0.07%", "57%",
    "64", "10k", "1.5M", "1_000", "18446744073709551615", "1e20",
    "85/15", "17/3", "0/0", "1e308/1e308", "50%/50%",
    "p50", "p99.9", "p99.99", "max", "p100", "p0", "0/4", "3/4", "4/4", "0/4294967295",
]

POLICIES = [
    "environments:\n  dev: {enforce: observe}\nchecks:\n  - name: l\n    endpoints: [get_product, search]\n"
    "    latency: {p50: 1ms, max: 1s}\n",
    "environments:\n  ci: {enforce: block, on_no_data: warn}\nchecks:\n  - name: e\n    error_rate: {max: 0%, count_4xx: true}\n"
    "regression:\n  quantiles: [p90]\n  tolerance: 0%\n  confidence: 99.9%\n",
    "environments:\n  x: {enforce: warn, min_soak: 1s}\nchecks:\n  - name: b\n    endpoints: each\n"
    "    slo: {latency_le: 5ms, target: 50%}\n    burn_rate: {windows: [[2s, 1s, 1]]}\n",
]

TEMPLATES = [
    "/t/{{tenant}}/products/{{product}}", "/search?q={{q}}&n={{request}}",
    '{"q": "{{q}}", "p": {{product}}}', "Bearer {{tenant}}-{{request}}",
    "{{", "}}{{", "{{ }}", "{{nope}}", "{{q}}{{q}}{{q}}", "/x/{{q", "é{{q}}ü",
]


def template_seed(context: int, values, token, text: str) -> bytes:
    out = bytes([context])
    for v in values:
        out += bytes([len(v)]) + v
    length, alphabet, n, k1, k2 = token
    out += bytes([length, alphabet]) + b"".join(x.to_bytes(8, "little") for x in (n, k1, k2))
    return out + text.encode()


def access_log_seeds():
    """Each fixture log with the byte that picks its format, detection
    (6) and custom log_format strings (7)."""
    logs = ROOT / "fixtures/logs"
    picks = [
        ("combined.log", 0), ("apache-combined.log", 1), ("apache-common.log", 2),
        ("alb.log", 3), ("envoy.log", 4), ("envoy.json.log", 5),
    ]
    for name, pick in picks:
        data = (logs / name).read_bytes()
        yield bytes([pick, 0]) + data
        yield bytes([6, 0]) + data
    combined = (logs / "combined.log").read_bytes()
    for fmt in [
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
        '$msec $request_time "$request_method" "$request_uri" $status $bytes_sent "$http_x_tenant_id"',
        '$time_iso8601 "$request" $status',
        '${remote_addr}x$status',
        '$',
    ]:
        yield bytes([7, 1]) + fmt.encode() + b"\n" + combined
    yield bytes([0, 0]) + b"\r\n\n\xff\xfe\n-\n"


def other_seeds():
    """Seeds of the targets outside scrub."""
    for path in ["profiles/demo.yaml", "profiles/shop.yaml"]:
        put("profile_yaml", (ROOT / path).read_text(encoding="utf-8"))
    for block in yaml_blocks("endpoints:"):
        put("profile_yaml", block)
    for path in ["profiles/demo.schema.yaml", "fixtures/shop.schema.yaml"]:
        put("schema_yaml", (ROOT / path).read_text(encoding="utf-8"))
    for block in yaml_blocks("tables:", "rows:"):
        put("schema_yaml", block)
    put("policy_yaml", (ROOT / "profiles/gate.yaml").read_text(encoding="utf-8"))
    for text in POLICIES:
        put("policy_yaml", text)
    for block in yaml_blocks("checks:"):
        put("policy_yaml", block)
    for u in UNITS:
        put("units", u)
    for i, text in enumerate(TEMPLATES):
        values = [b"t-0001", b"42", b"a b/c\"\\\r\n\x00\xff", "é😀".encode()]
        put("template", template_seed(i % 4, values, (12, i % 6, 1000, i, i + 1), text))
    run = FUZZ / "seeds/run"
    log = (run / "latency.hlog").read_bytes()
    put("hlog", log[:60000].rsplit(b"\n", 1)[0] + b"\n")
    lines = log.splitlines(keepends=True)
    put("hlog", b"".join(lines[:8]))
    put("hlog", b"".join(l for l in lines if not l.startswith(b"#"))[:4000])
    summary = (run / "summary.json").read_text(encoding="utf-8")
    put("summary", summary)
    doc = json.loads(summary)
    doc["run"]["shard"] = {"index": 1, "count": 3, "attempt": 0}
    put("summary", json.dumps(doc))
    doc["run"]["merged"] = {"count": 3, "merged": [0, 1], "missing": [2], "partial": True}
    put("summary", json.dumps(doc, indent=1))
    for s in access_log_seeds():
        put("access_log", s)


if __name__ == "__main__":
    main()
    other_seeds()
