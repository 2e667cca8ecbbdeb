#!/usr/bin/env python3
"""Labelled corpus for measuring `loadline scrub`'s detectors (recall and precision per kind).

Writes JSON Lines (UTF-8, one object per line):

    {"generator": "faker/de_DE", "text": "...", "spans": [[start, end, "kind"], ...]}

* `start`/`end` are BYTE offsets into the UTF-8 encoding of `text` (end exclusive), so Rust
  can slice `text.as_bytes()[start..end]` directly. Spans are sorted and never overlap.
* `kind` is one of: email, phone, card, iban, ip, mac, national_id, token.
* A span covers exactly the planted value as it appears in the text: a grouped card
  `4111 1111 1111 1111`, a phone with its extension `+1-912-490-4047x96669`, only the
  value of `password=VALUE`, only the address of `1.2.3.4:8080`.
* Every line is a short ticket note (in the locale's language) or a log line with 0-3
  planted values (about a third have none) and several non-PII distractors: dates, times,
  timestamps, amounts, percentages, versions, order numbers, postcodes, ISBN-13s, UUIDs,
  colours, coordinates, HTTP statuses, ports, sizes, durations, quantities, SKUs, and
  filler sentences from the library. Anything not covered by a span is not PII.

Two independent fake-data libraries produce the planted values (`--generator`):

* faker   (Faker 40.63.0): 16 locales; email, phone, card, iban, ip, mac, national_id
  (US SSN, UK NINO, Spanish DNI/NIE, Canadian SIN, Swedish personnummer), token.
* mimesis (mimesis 22.2.0): 11 locales; email, phone, card, ip, mac, token. Mimesis has
  no IBAN and (since builtins were removed) no national id.

Every value is checked before it is labelled (Luhn and issuer range for cards, mod-97 and
the registry length for IBANs, digit counts for phones, checksums for national ids,
shapes for tokens, `ipaddress` for IPs, ...). A value that fails is not used; the counts
of dropped values by reason are printed at the end, with spans per kind.

Deterministic for a given `--seed` (explicit random.Random instances, Faker seed_instance
per locale, mimesis seed per provider; the one Faker provider that reads the clock,
sv_SE ssn(), is given a fixed "now"). Output goes to OUT.partial, renamed to OUT at the end.

Run (Python 3.11, `pip install -r benches/requirements.txt`):

    python3 benches/detect_corpus.py --generator faker   --out /tmp/detect-corpus/faker.jsonl   --seed 1
    python3 benches/detect_corpus.py --generator mimesis --out /tmp/detect-corpus/mimesis.jsonl --seed 1
    python3 benches/detect_corpus_check.py /tmp/detect-corpus/*.jsonl

Options: --generator faker|mimesis, --out FILE, --lines N (default 20000), --seed S (default 1).
"""
from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import string
import sys
import types
import uuid
from collections import Counter
import random

PINNED = {"faker": "40.63.0", "mimesis": "22.2.0"}
KINDS = ("email", "phone", "card", "iban", "ip", "mac", "national_id", "token")

FAKER_LOCALES = (
    "en_US", "en_GB", "en_CA", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL",
    "pt_BR", "ja_JP", "zh_CN", "ko_KR", "sv_SE", "pl_PL", "en_IN", "ru_RU",
)
MIMESIS_LOCALES = ("en", "de", "fr", "es", "it", "nl", "pt-br", "ja", "ru", "pl", "sv")
# Mimesis locale -> the Faker-style tag used for text templates and distractor formats.
MIMESIS_TAG = {
    "en": "en_US", "de": "de_DE", "fr": "fr_FR", "es": "es_ES", "it": "it_IT", "nl": "nl_NL",
    "pt-br": "pt_BR", "ja": "ja_JP", "ru": "ru_RU", "pl": "pl_PL", "sv": "sv_SE",
}
# Country calling code per locale, for checking Faker's msisdn().
CALLING_CODE = {
    "en_US": "1", "en_GB": "44", "en_CA": "1", "de_DE": "49", "fr_FR": "33", "es_ES": "34",
    "it_IT": "39", "nl_NL": "31", "pt_BR": "55", "ja_JP": "81", "zh_CN": "86", "ko_KR": "82",
    "sv_SE": "46", "pl_PL": "48", "en_IN": "91", "ru_RU": "7",
}
# Total digits of an international number (country code included) per calling code.
E164_DIGITS = {
    "1": (11,), "44": (12,), "49": (11, 12, 13), "33": (11,), "34": (11,), "39": (11, 12),
    "31": (11,), "55": (12, 13), "81": (11, 12), "86": (13,), "82": (11, 12),
    "46": (10, 11, 12), "48": (11,), "91": (12,), "7": (11,),
}


def derive(seed: int, *parts: str) -> int:
    """A 64-bit seed from the user's seed and names (stable across runs, unlike hash())."""
    h = hashlib.sha256(("%d|" % seed + "|".join(parts)).encode()).digest()
    return int.from_bytes(h[:8], "big")


# --------------------------------------------------------------------------------------
# Validators. Each returns None when the value is what its kind says, else a reason.
# --------------------------------------------------------------------------------------

def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


EMAIL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)


def check_email(v: str):
    if not EMAIL_RE.fullmatch(v):
        return "not an RFC 5322 dot-atom address with a 2+ letter TLD"
    if len(v) > 254 or len(v.split("@")[0]) > 64:
        return "too long"
    return None


PHONE_RE = re.compile(
    r"(?P<main>\+?[\d(][\d ().\-/]*\d)(?P<ext> ?(?:x|ext\.?) ?\d{1,6})?"
)


def check_phone(v: str):
    m = PHONE_RE.fullmatch(v)
    if not m:
        return "characters other than digits, + ( ) . - / space and an x/ext extension"
    main = m.group("main")
    if "+" in main[1:]:
        return "+ not at the start"
    depth = 0
    for ch in main:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0 or depth > 1:
            return "unbalanced parentheses"
    if depth:
        return "unbalanced parentheses"
    if re.search(r"[ ().\-/]{3,}", main):
        return "3+ separators in a row"
    n = sum(c.isdigit() for c in main)
    if main.startswith("+"):
        if not 8 <= n <= 15:
            return "international number with %d digits (E.164 allows 8-15 here)" % n
    elif main.startswith("00"):
        if not 8 <= n - 2 <= 15:
            return "00-prefixed number with %d digits after 00" % (n - 2)
    elif not 7 <= n <= 13:
        return "national number with %d digits (want 7-13)" % n
    return None


def check_msisdn(v: str, locale: str):
    if not v.isdigit():
        return "msisdn: not all digits"
    cc = CALLING_CODE[locale]
    if not v.startswith(cc):
        return "msisdn: random digits that do not start with the locale's country code"
    if len(v) not in E164_DIGITS[cc]:
        return "msisdn: country code right but wrong length for it"
    return None


def card_network_reason(d: str, network: str):
    """Issuer range and length per network (ISO/IEC 7812 IINs as published by the networks)."""
    n = len(d)
    p2, p3, p4 = int(d[:2]), int(d[:3]), int(d[:4])
    if network == "visa":
        ok = d[0] == "4" and n in (13, 16, 19)
    elif network == "mastercard":
        ok = n == 16 and (51 <= p2 <= 55 or 2221 <= p4 <= 2720)
    elif network == "amex":
        ok = n == 15 and p2 in (34, 37)
    elif network == "discover":
        ok = 16 <= n <= 19 and (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65)
    elif network == "diners":
        ok = 14 <= n <= 19 and (300 <= p3 <= 305 or p4 == 3095 or p2 in (36, 38, 39))
    elif network == "jcb":
        ok = (16 <= n <= 19 and 3528 <= p4 <= 3589) or (n == 15 and p4 in (1800, 2131))
    elif network == "unionpay":
        ok = 16 <= n <= 19 and (p2 == 62 or 8100 <= p4 <= 8171)
    elif network == "mir":
        ok = 16 <= n <= 19 and 2200 <= p4 <= 2204
    elif network == "maestro":
        # Maestro PANs are 12-19 digits with a 5 or 6 major industry identifier.
        ok = 12 <= n <= 19 and d[0] in "56"
    else:
        raise ValueError(network)
    return None if ok else "%s: %d digits, prefix %s outside the network's IIN ranges/lengths" % (network, n, d[:2] + "xx")


def check_card(v: str, network: str):
    d = re.sub(r"[ -]", "", v)
    if not d.isdigit():
        return "card: not digits"
    if not luhn_ok(d):
        return "card: fails Luhn"
    return card_network_reason(d, network)


# SWIFT IBAN registry: country -> total length.
IBAN_LENGTH = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def check_iban(v: str):
    c = v.replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", c):
        return "iban: not CC + 2 check digits + alphanumeric BBAN"
    want = IBAN_LENGTH.get(c[:2])
    if want is None:
        return "iban: country %s not in the IBAN registry" % c[:2]
    if len(c) != want:
        return "iban: %s IBAN with %d characters (registry: %d)" % (c[:2], len(c), want)
    num = "".join(str(int(ch, 36)) for ch in c[4:] + c[:4])
    if int(num) % 97 != 1:
        return "iban: fails mod-97"
    return None


def check_ip(v: str):
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return "ip: not parsed by ipaddress"
    return None


MAC_RE = re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}")


def check_mac(v: str):
    return None if MAC_RE.fullmatch(v) else "mac: not 6 hex pairs joined by : or -"


def check_us_ssn(v: str):
    m = re.fullmatch(r"(\d{3})([- ])(\d{2})\2(\d{4})", v)
    if not m:
        return "us_ssn: not AAA-GG-SSSS"
    area, group, serial = int(m.group(1)), int(m.group(3)), int(m.group(4))
    if area == 0 or area == 666 or area >= 900 or group == 0 or serial == 0:
        return "us_ssn: area 000/666/9xx, group 00 or serial 0000"
    return None


NINO_BAD_FIRST = "DFIQUV"
NINO_BAD_SECOND = "DFIQUVO"
NINO_BAD_PREFIX = ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")


def check_uk_nino(v: str):
    c = v.replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", c):
        return "uk_nino: not 2 letters + 6 digits + A-D"
    if c[0] in NINO_BAD_FIRST or c[1] in NINO_BAD_SECOND or c[:2] in NINO_BAD_PREFIX:
        return "uk_nino: prefix %s not allocated" % c[:2]
    return None


DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def check_es_dni(v: str):
    if not re.fullmatch(r"\d{8}[A-Z]", v):
        return "es_dni: not 8 digits + letter"
    return None if DNI_LETTERS[int(v[:8]) % 23] == v[8] else "es_dni: wrong control letter"


def check_es_nie(v: str):
    if not re.fullmatch(r"[XYZ]\d{7}[A-Z]", v):
        return "es_nie: not X/Y/Z + 7 digits + letter"
    n = int(str("XYZ".index(v[0])) + v[1:8])
    return None if DNI_LETTERS[n % 23] == v[8] else "es_nie: wrong control letter"


def check_ca_sin(v: str):
    if not re.fullmatch(r"\d{3}([ -])\d{3}\1\d{3}", v):
        return "ca_sin: not ddd ddd ddd"
    d = re.sub(r"\D", "", v)
    if d[0] in "08":
        return "ca_sin: first digit %s is not assigned to individuals" % d[0]
    return None if luhn_ok(d) else "ca_sin: fails Luhn"


def check_se_pnr(v: str):
    m = re.fullmatch(r"(\d{2})?(\d{2})(\d{2})(\d{2})([-+])(\d{4})", v)
    if not m:
        return "se_personnummer: not (YY)YYMMDD-NNNN"
    yy, mm, dd = int(m.group(2)), int(m.group(3)), int(m.group(4))
    century = int(m.group(1)) if m.group(1) else None
    if dd > 60:
        dd -= 60  # samordningsnummer
    year = century * 100 + yy if century is not None else 2000 + yy
    try:
        datetime.date(year, mm, dd)
    except ValueError:
        return "se_personnummer: not a real date"
    if not luhn_ok(m.group(2) + m.group(3) + m.group(4) + m.group(6)):
        return "se_personnummer: fails Luhn"
    return None


NID_CHECK = {
    "us_ssn": check_us_ssn, "uk_nino": check_uk_nino, "es_dni": check_es_dni,
    "es_nie": check_es_nie, "ca_sin": check_ca_sin, "se_personnummer": check_se_pnr,
}

TOKEN_RES = {
    "aws_access_key": re.compile(r"AKIA[A-Z2-7]{16}"),
    "github_token": re.compile(r"ghp_[A-Za-z0-9]{36}"),
    "slack_token": re.compile(r"xox[abprs]-\d{10,13}-\d{10,13}-[A-Za-z0-9]{24}"),
    "stripe_key": re.compile(r"(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,99}"),
    "google_api_key": re.compile(r"AIza[A-Za-z0-9_-]{35}"),
    "jwt": re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
}


def b64url_json(seg: str):
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def check_token(v: str, rule: str):
    if rule == "secret_assignment":
        if len(v) < 8 or any(c.isspace() for c in v):
            return "secret value: shorter than 8 or contains whitespace"
        if any(c in "\"'`\\" for c in v):
            return "secret value: contains a quote or backslash (span boundary ambiguous)"
        if EMAIL_RE.search(v) or re.search(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", v):
            return "secret value: contains an email- or IPv4-shaped substring"
        return None
    if not TOKEN_RES[rule].fullmatch(v):
        return "%s: wrong shape" % rule
    if rule == "jwt":
        try:
            a, b, _ = v.split(".")
            b64url_json(a)
            b64url_json(b)
        except Exception:
            return "jwt: header or payload is not base64url JSON"
    return None


def check(kind: str, v: str, rule: str):
    if kind == "email":
        return check_email(v)
    if kind == "phone":
        return check_phone(v)
    if kind == "card":
        return check_card(v, rule)
    if kind == "iban":
        return check_iban(v)
    if kind == "ip":
        return check_ip(v)
    if kind == "mac":
        return check_mac(v)
    if kind == "national_id":
        return NID_CHECK[rule](v)
    if kind == "token":
        return check_token(v, rule)
    raise ValueError(kind)


class Invalid(Exception):
    pass


# --------------------------------------------------------------------------------------
# Text templates per language. {v} is the value. In "assign" templates {a} is a whole
# `key=value` (only the value is labelled) and is always followed by a space.
# --------------------------------------------------------------------------------------

DIS_CATS = (
    "date_iso", "date_local", "time", "timestamp", "amount", "percent", "version", "order",
    "zip", "isbn", "uuid", "color", "coords", "status", "port", "size", "duration", "qty", "sku",
)


def lang_table(pii, assign, nid, dis, sep, end, latin=True):
    d = dict(zip(DIS_CATS, dis))
    assert len(dis) == len(DIS_CATS)
    for t in assign:
        assert "{a} " in t, t
    return {"pii": pii, "assign": assign, "nid": nid, "dis": d, "sep": sep, "end": end, "latin": latin}


LANG = {
    "en": lang_table(
        {
            "email": ["customer wrote in from {v}", "please reply to {v}", "contact email {v}"],
            "phone": ["asked for a call back on {v}", "phone {v}", "caller ID {v}"],
            "card": ["payment with card {v} was declined", "card number {v}"],
            "iban": ["refund to IBAN {v}", "bank account {v}"],
            "ip": ["login from {v}", "request came from {v}"],
            "mac": ["device MAC {v}", "router lists hardware address {v}"],
            "token": ["found key {v} committed to the repo", "rotate the leaked token {v}"],
        },
        ["config dump had {a} in plain text", "user pasted {a} into the chat"],
        ["{label} {v}", "{label} on file is {v}"],
        ["created {v}", "due {v}", "at {v}", "last seen {v}", "total {v}", "discount {v}",
         "app version {v}", "order {v}", "ZIP {v}", "ISBN {v}", "request id {v}",
         "theme colour {v}", "location {v}", "got HTTP {v}", "port {v}", "attachment {v}",
         "took {v}", "qty {v}", "SKU {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "de": lang_table(
        {
            "email": ["Kunde schrieb von {v}", "bitte an {v} antworten", "E-Mail: {v}"],
            "phone": ["Rückruf erbeten unter {v}", "Tel. {v}", "Anruf von {v}"],
            "card": ["Zahlung mit Karte {v} abgelehnt", "Kartennummer {v}"],
            "iban": ["Erstattung auf IBAN {v}", "Konto {v}"],
            "ip": ["Anmeldung von {v}", "Anfrage kam von {v}"],
            "mac": ["MAC-Adresse des Geräts {v}", "Router meldet Hardware-Adresse {v}"],
            "token": ["Schlüssel {v} wurde ins Repo committet", "geleakten Token {v} bitte sperren"],
        },
        ["in der Konfiguration stand {a} im Klartext", "hat {a} in den Chat kopiert"],
        ["{label} {v}"],
        ["angelegt am {v}", "fällig am {v}", "um {v} Uhr", "zuletzt gesehen {v}", "Summe {v}",
         "Rabatt {v}", "App-Version {v}", "Bestellung {v}", "PLZ {v}", "ISBN {v}",
         "Request-ID {v}", "Farbe {v}", "Standort {v}", "HTTP-Status {v}", "Port {v}",
         "Anhang {v}", "Dauer {v}", "Menge {v}", "Artikel {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "fr": lang_table(
        {
            "email": ["le client a écrit depuis {v}", "merci de répondre à {v}", "courriel : {v}"],
            "phone": ["rappeler au {v}", "tél. {v}", "appel reçu du {v}"],
            "card": ["paiement refusé pour la carte {v}", "numéro de carte {v}"],
            "iban": ["remboursement sur l'IBAN {v}", "compte {v}"],
            "ip": ["connexion depuis {v}", "requête venant de {v}"],
            "mac": ["adresse MAC de l'appareil {v}", "le routeur affiche {v}"],
            "token": ["la clé {v} a été commitée dans le dépôt", "révoquer le jeton {v}"],
        },
        ["la config contenait {a} en clair", "a collé {a} dans le chat"],
        ["{label} {v}"],
        ["créé le {v}", "échéance le {v}", "à {v}", "vu pour la dernière fois {v}", "total {v}",
         "remise de {v}", "version de l'app {v}", "commande {v}", "code postal {v}", "ISBN {v}",
         "identifiant de requête {v}", "couleur {v}", "position {v}", "statut HTTP {v}",
         "port {v}", "pièce jointe de {v}", "durée {v}", "quantité {v}", "réf. {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "es": lang_table(
        {
            "email": ["el cliente escribió desde {v}", "responder a {v}", "correo: {v}"],
            "phone": ["pide que le llamen al {v}", "tel. {v}", "llamada desde el {v}"],
            "card": ["pago rechazado con la tarjeta {v}", "número de tarjeta {v}"],
            "iban": ["reembolso al IBAN {v}", "cuenta {v}"],
            "ip": ["inicio de sesión desde {v}", "la petición vino de {v}"],
            "mac": ["dirección MAC del equipo {v}", "el router muestra {v}"],
            "token": ["la clave {v} se subió al repositorio", "revocar el token {v}"],
        },
        ["la configuración tenía {a} en texto plano", "pegó {a} en el chat"],
        ["con {label} {v}", "{label}: {v}"],
        ["creado el {v}", "vence el {v}", "a las {v}", "visto por última vez {v}", "total {v}",
         "descuento del {v}", "versión de la app {v}", "pedido {v}", "código postal {v}",
         "ISBN {v}", "id de petición {v}", "color {v}", "ubicación {v}", "estado HTTP {v}",
         "puerto {v}", "adjunto de {v}", "duración {v}", "cantidad {v}", "ref. {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "it": lang_table(
        {
            "email": ["il cliente ha scritto da {v}", "rispondere a {v}", "email: {v}"],
            "phone": ["richiamare al {v}", "tel. {v}", "chiamata dal {v}"],
            "card": ["pagamento rifiutato con la carta {v}", "numero di carta {v}"],
            "iban": ["rimborso sull'IBAN {v}", "conto {v}"],
            "ip": ["accesso da {v}", "richiesta arrivata da {v}"],
            "mac": ["indirizzo MAC del dispositivo {v}", "il router mostra {v}"],
            "token": ["la chiave {v} è finita nel repository", "revocare il token {v}"],
        },
        ["la configurazione conteneva {a} in chiaro", "ha incollato {a} nella chat"],
        ["{label} {v}"],
        ["creato il {v}", "scadenza {v}", "alle {v}", "visto l'ultima volta {v}", "totale {v}",
         "sconto del {v}", "versione app {v}", "ordine {v}", "CAP {v}", "ISBN {v}",
         "id richiesta {v}", "colore {v}", "posizione {v}", "stato HTTP {v}", "porta {v}",
         "allegato di {v}", "durata {v}", "quantità {v}", "cod. art. {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "nl": lang_table(
        {
            "email": ["klant mailde vanaf {v}", "graag antwoorden aan {v}", "e-mail: {v}"],
            "phone": ["wil teruggebeld worden op {v}", "tel. {v}", "gebeld door {v}"],
            "card": ["betaling met kaart {v} geweigerd", "kaartnummer {v}"],
            "iban": ["terugbetaling naar IBAN {v}", "rekening {v}"],
            "ip": ["ingelogd vanaf {v}", "verzoek kwam van {v}"],
            "mac": ["MAC-adres van het apparaat {v}", "router toont {v}"],
            "token": ["sleutel {v} stond in de repo", "gelekte token {v} intrekken"],
        },
        ["de config bevatte {a} in platte tekst", "plakte {a} in de chat"],
        ["{label} {v}"],
        ["aangemaakt op {v}", "vervalt op {v}", "om {v}", "laatst gezien {v}", "totaal {v}",
         "korting {v}", "app-versie {v}", "bestelling {v}", "postcode {v}", "ISBN {v}",
         "request-id {v}", "kleur {v}", "locatie {v}", "HTTP-status {v}", "poort {v}",
         "bijlage van {v}", "duur {v}", "aantal {v}", "artikel {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "pt": lang_table(
        {
            "email": ["o cliente escreveu de {v}", "responder para {v}", "e-mail: {v}"],
            "phone": ["pediu retorno no {v}", "tel. {v}", "ligação do {v}"],
            "card": ["pagamento recusado no cartão {v}", "número do cartão {v}"],
            "iban": ["reembolso para o IBAN {v}", "conta {v}"],
            "ip": ["login a partir de {v}", "requisição veio de {v}"],
            "mac": ["endereço MAC do aparelho {v}", "o roteador mostra {v}"],
            "token": ["a chave {v} foi commitada no repositório", "revogar o token {v}"],
        },
        ["a configuração tinha {a} em texto puro", "colou {a} no chat"],
        ["{label} {v}"],
        ["criado em {v}", "vence em {v}", "às {v}", "visto por último {v}", "total {v}",
         "desconto de {v}", "versão do app {v}", "pedido {v}", "CEP {v}", "ISBN {v}",
         "id da requisição {v}", "cor {v}", "localização {v}", "status HTTP {v}", "porta {v}",
         "anexo de {v}", "duração {v}", "quantidade {v}", "SKU {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "sv": lang_table(
        {
            "email": ["kunden skrev från {v}", "svara till {v}", "e-post: {v}"],
            "phone": ["vill bli uppringd på {v}", "tfn {v}", "samtal från {v}"],
            "card": ["betalning med kort {v} nekades", "kortnummer {v}"],
            "iban": ["återbetalning till IBAN {v}", "konto {v}"],
            "ip": ["inloggning från {v}", "anropet kom från {v}"],
            "mac": ["enhetens MAC-adress {v}", "routern visar {v}"],
            "token": ["nyckeln {v} låg i repot", "spärra den läckta token {v}"],
        },
        ["konfigurationen innehöll {a} i klartext", "klistrade in {a} i chatten"],
        ["{label} {v}", "{label}: {v}"],
        ["skapad {v}", "förfaller {v}", "kl. {v}", "senast sedd {v}", "summa {v}", "rabatt {v}",
         "appversion {v}", "order {v}", "postnummer {v}", "ISBN {v}", "förfrågnings-id {v}",
         "färg {v}", "position {v}", "HTTP-status {v}", "port {v}", "bilaga på {v}", "tog {v}",
         "antal {v}", "artikel {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "pl": lang_table(
        {
            "email": ["klient napisał z {v}", "odpowiedzieć na {v}", "e-mail: {v}"],
            "phone": ["prosi o kontakt pod {v}", "tel. {v}", "dzwonił z {v}"],
            "card": ["płatność kartą {v} odrzucona", "numer karty {v}"],
            "iban": ["zwrot na IBAN {v}", "konto {v}"],
            "ip": ["logowanie z {v}", "żądanie przyszło z {v}"],
            "mac": ["adres MAC urządzenia {v}", "router pokazuje {v}"],
            "token": ["klucz {v} trafił do repozytorium", "unieważnić token {v}"],
        },
        ["w konfiguracji było {a} jawnym tekstem", "wkleił {a} na czacie"],
        ["{label} {v}"],
        ["utworzono {v}", "termin {v}", "o {v}", "ostatnio widziany {v}", "suma {v}",
         "rabat {v}", "wersja aplikacji {v}", "zamówienie {v}", "kod pocztowy {v}", "ISBN {v}",
         "id żądania {v}", "kolor {v}", "lokalizacja {v}", "status HTTP {v}", "port {v}",
         "załącznik {v}", "czas {v}", "ilość {v}", "SKU {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "ru": lang_table(
        {
            "email": ["клиент написал с адреса {v}", "ответить на {v}", "почта: {v}"],
            "phone": ["просит перезвонить на {v}", "тел. {v}", "звонок с номера {v}"],
            "card": ["оплата картой {v} отклонена", "номер карты {v}"],
            "iban": ["возврат на IBAN {v}", "счёт {v}"],
            "ip": ["вход с {v}", "запрос пришёл с {v}"],
            "mac": ["MAC-адрес устройства {v}", "роутер показывает {v}"],
            "token": ["ключ {v} попал в репозиторий", "отозвать токен {v}"],
        },
        ["в конфиге был {a} открытым текстом", "вставил {a} в чат"],
        ["{label} {v}"],
        ["создан {v}", "срок {v}", "в {v}", "последний раз {v}", "итого {v}", "скидка {v}",
         "версия приложения {v}", "заказ {v}", "индекс {v}", "ISBN {v}", "id запроса {v}",
         "цвет {v}", "координаты {v}", "HTTP-статус {v}", "порт {v}", "вложение {v}",
         "заняло {v}", "количество {v}", "артикул {v}"],
        ["; ", ", ", ". "], ".",
    ),
    "ja": lang_table(
        {
            "email": ["お客様から {v} 経由で問い合わせ", "{v}まで返信してください", "メール：{v}"],
            "phone": ["{v} に折り返し希望", "TEL：{v}", "着信番号 {v}"],
            "card": ["カード {v} の決済が拒否された", "カード番号：{v}"],
            "iban": ["IBAN {v} へ返金", "口座 {v}"],
            "ip": ["{v} からログイン", "接続元IP：{v}"],
            "mac": ["端末のMACアドレス {v}", "MAC：{v}"],
            "token": ["鍵 {v} がリポジトリにコミットされていた", "漏洩したトークン {v} を無効化"],
        },
        ["設定ファイルに {a} が平文で書かれていた", "チャットに {a} を貼り付けた"],
        ["{label} {v}"],
        ["作成日 {v}", "期限 {v}", "{v} 頃", "最終確認 {v}", "合計 {v}", "割引 {v}",
         "アプリ {v}", "注文番号 {v}", "〒{v}", "ISBN {v}", "リクエストID {v}", "テーマ色 {v}",
         "位置 {v}", "HTTP {v} エラー", "ポート {v}", "添付ファイル {v}", "処理時間 {v}",
         "数量 {v}", "商品コード {v}"],
        ["、", "。"], "。", latin=False,
    ),
    "zh": lang_table(
        {
            "email": ["客户通过 {v} 来信", "请回复至{v}", "邮箱：{v}"],
            "phone": ["请回拨 {v}", "电话：{v}", "来电号码{v}"],
            "card": ["银行卡 {v} 支付失败", "卡号：{v}"],
            "iban": ["退款至IBAN {v}", "账户 {v}"],
            "ip": ["来自 {v} 的登录", "请求来源IP：{v}"],
            "mac": ["设备MAC地址 {v}", "MAC：{v}"],
            "token": ["密钥 {v} 被提交到仓库", "请吊销泄露的令牌 {v}"],
        },
        ["配置文件中有 {a} 明文", "在聊天中粘贴了 {a} 请处理"],
        ["{label} {v}"],
        ["创建于 {v}", "截止 {v}", "{v} 左右", "最后在线 {v}", "合计 {v}", "折扣 {v}",
         "应用版本 {v}", "订单号 {v}", "邮编 {v}", "ISBN {v}", "请求ID {v}", "主题色 {v}",
         "位置 {v}", "HTTP状态码 {v}", "端口 {v}", "附件 {v}", "耗时 {v}", "数量 {v}",
         "商品编码 {v}"],
        ["，", "；", "。"], "。", latin=False,
    ),
    "ko": lang_table(
        {
            "email": ["고객이 {v} 주소로 문의함", "{v}로 회신 바랍니다", "이메일: {v}"],
            "phone": ["{v}로 회신 전화 요청", "전화: {v}", "발신 번호 {v}"],
            "card": ["카드 {v} 결제 거절", "카드 번호 {v}"],
            "iban": ["IBAN {v}로 환불", "계좌 {v}"],
            "ip": ["{v}에서 로그인", "요청 IP {v}"],
            "mac": ["기기 MAC 주소 {v}", "공유기에 표시된 주소 {v}"],
            "token": ["키 {v}가 저장소에 커밋됨", "유출된 토큰 {v} 폐기 필요"],
        },
        ["설정 파일에 {a} 평문으로 저장됨", "채팅에 {a} 붙여넣음"],
        ["{label} {v}"],
        ["생성일 {v}", "마감 {v}", "{v}경", "마지막 접속 {v}", "합계 {v}", "할인 {v}",
         "앱 버전 {v}", "주문 {v}", "우편번호 {v}", "ISBN {v}", "요청 ID {v}", "색상 {v}",
         "위치 {v}", "HTTP 상태 {v}", "포트 {v}", "첨부 파일 {v}", "소요 시간 {v}", "수량 {v}",
         "상품 코드 {v}"],
        [", ", ". "], ".", latin=False,
    ),
}
LOCALE_LANG = {
    "en_US": "en", "en_GB": "en", "en_CA": "en", "en_IN": "en", "de_DE": "de", "fr_FR": "fr",
    "es_ES": "es", "it_IT": "it", "nl_NL": "nl", "pt_BR": "pt", "ja_JP": "ja", "zh_CN": "zh",
    "ko_KR": "ko", "sv_SE": "sv", "pl_PL": "pl", "ru_RU": "ru",
}
NID_LABEL = {
    "us_ssn": "SSN", "uk_nino": "NI number", "es_dni": "DNI", "es_nie": "NIE",
    "ca_sin": "SIN", "se_personnummer": "personnummer",
}
NID_LOG_KEY = {
    "us_ssn": "ssn", "uk_nino": "nino", "es_dni": "dni", "es_nie": "nie", "ca_sin": "sin",
    "se_personnummer": "pnr",
}
# Keys the detector's secret_assignment rule promises (api key/secret/token/password/...).
ASSIGN_KEYS = ("password", "passwd", "db_password", "api_key", "API_KEY", "client_secret",
               "auth_token", "SECRET")


# --------------------------------------------------------------------------------------
# Distractors: non-PII values formatted for the locale.
# --------------------------------------------------------------------------------------

DATE_LOCAL = {
    "en_US": "%m/%d/%Y", "en_GB": "%d/%m/%Y", "en_IN": "%d/%m/%Y", "en_CA": "%Y-%m-%d",
    "fr_FR": "%d/%m/%Y", "es_ES": "%d/%m/%Y", "it_IT": "%d/%m/%Y", "pt_BR": "%d/%m/%Y",
    "de_DE": "%d.%m.%Y", "pl_PL": "%d.%m.%Y", "ru_RU": "%d.%m.%Y", "nl_NL": "%d-%m-%Y",
    "sv_SE": "%Y-%m-%d",
}
DECIMAL_COMMA = {"de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "sv_SE", "pl_PL", "ru_RU"}


def group3(n: int, sep: str) -> str:
    s = str(n)
    out = []
    while len(s) > 3:
        out.append(s[-3:])
        s = s[:-3]
    out.append(s)
    return sep.join(reversed(out))


def group_indian(n: int) -> str:
    s = str(n)
    if len(s) <= 3:
        return s
    head, tail = s[:-3], s[-3:]
    parts = []
    while len(head) > 2:
        parts.append(head[-2:])
        head = head[:-2]
    parts.append(head)
    return ",".join(reversed(parts)) + "," + tail


def amount(rng: random.Random, tag: str) -> str:
    units = rng.choice((rng.randint(1, 999), rng.randint(1000, 99999), rng.randint(100000, 9999999)))
    cents = rng.randint(0, 99)
    if tag in ("en_US", "en_CA"):
        return "$%s.%02d" % (group3(units, ","), cents)
    if tag == "en_GB":
        return "£%s.%02d" % (group3(units, ","), cents)
    if tag == "en_IN":
        return "₹%s.%02d" % (group_indian(units), cents)
    if tag in ("de_DE", "es_ES", "it_IT"):
        return "%s,%02d €" % (group3(units, "."), cents)
    if tag == "nl_NL":
        return "€ %s,%02d" % (group3(units, "."), cents)
    if tag == "fr_FR":
        return "%s,%02d €" % (group3(units, rng.choice((" ", "\u202f"))), cents)
    if tag == "pt_BR":
        return "R$ %s,%02d" % (group3(units, "."), cents)
    if tag == "ja_JP":
        return rng.choice(("¥%s", "%s円")) % group3(units, ",")
    if tag == "zh_CN":
        return rng.choice(("¥%s.%02d" % (group3(units, ","), cents), "%d.%02d元" % (units, cents)))
    if tag == "ko_KR":
        return rng.choice(("₩%s", "%s원")) % group3(units, ",")
    if tag == "sv_SE":
        return "%s,%02d kr" % (group3(units, " "), cents)
    if tag == "pl_PL":
        return "%s,%02d zł" % (group3(units, " "), cents)
    if tag == "ru_RU":
        return "%s,%02d ₽" % (group3(units, "\u00a0"), cents)
    raise ValueError(tag)


def dec(x: str, tag: str) -> str:
    return x.replace(".", ",") if tag in DECIMAL_COMMA else x


def rand_date(rng: random.Random) -> datetime.date:
    return datetime.date(rng.randint(2015, 2027), rng.randint(1, 12), rng.randint(1, 28))


def isbn13(rng: random.Random) -> str:
    body = "978" + "".join(rng.choice(string.digits) for _ in range(9))
    s = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(body))
    check = (10 - s % 10) % 10
    group = rng.choice((1, 1, 2))
    pub = rng.randint(2, 5)
    rest = body[3:]
    return "978-%s-%s-%s-%d" % (rest[:group], rest[group:group + pub], rest[group + pub:], check)


def distractor(rng: random.Random, cat: str, tag: str, postcode) -> str:
    if cat == "date_iso":
        return rand_date(rng).isoformat()
    if cat == "date_local":
        d = rand_date(rng)
        if tag in ("ja_JP", "zh_CN"):
            return "%d年%d月%d日" % (d.year, d.month, d.day)
        if tag == "ko_KR":
            return rng.choice(("%d년 %d월 %d일", "%d. %d. %d.")) % (d.year, d.month, d.day)
        if tag == "en_US" and rng.random() < 0.3:
            return d.strftime("%b ") + "%d, %d" % (d.day, d.year)
        return d.strftime(DATE_LOCAL[tag])
    if cat == "time":
        h, m, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        if tag == "en_US" and rng.random() < 0.4:
            return "%d:%02d %s" % ((h % 12) or 12, m, "AM" if h < 12 else "PM")
        return rng.choice(("%02d:%02d" % (h, m), "%02d:%02d:%02d" % (h, m, s)))
    if cat == "timestamp":
        d = rand_date(rng).isoformat()
        h, m, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        r = rng.random()
        if r < 0.4:
            return "%sT%02d:%02d:%02dZ" % (d, h, m, s)
        if r < 0.6:
            return "%sT%02d:%02d:%02d.%03d%s" % (d, h, m, s, rng.randint(0, 999),
                                                 rng.choice(("+01:00", "+02:00", "-05:00", "+09:00")))
        if r < 0.85:
            return "%s %02d:%02d:%02d" % (d, h, m, s)
        return str(rng.randint(1_420_000_000, 1_800_000_000))  # unix seconds
    if cat == "amount":
        return amount(rng, tag)
    if cat == "percent":
        x = rng.choice(("%d" % rng.randint(1, 99), "%.1f" % (rng.randint(1, 999) / 10)))
        return dec(x, tag) + (" %" if tag in DECIMAL_COMMA and tag != "nl_NL" else "%")
    if cat == "version":
        a, b, c = rng.randint(0, 15), rng.randint(0, 30), rng.randint(0, 40)
        return rng.choice((
            "v%d.%d.%d" % (a, b, c), "%d.%d.%d" % (a, b, c),
            "%d.%d.%d-rc.%d" % (a, b, c, rng.randint(1, 5)),
            "%d.%d.%d-beta.%d+build.%d" % (a, b, c, rng.randint(1, 9), rng.randint(1, 999)),
        ))
    if cat == "order":
        return "#%d" % rng.randint(1000, 999999)
    if cat == "zip":
        return postcode()
    if cat == "isbn":
        return isbn13(rng)
    if cat == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if cat == "color":
        c = "#%06x" % rng.getrandbits(24)
        return c.upper() if rng.random() < 0.3 else c
    if cat == "coords":
        return "%.4f, %.4f" % (rng.uniform(-80, 80), rng.uniform(-179, 179))
    if cat == "status":
        return str(rng.choice((200, 201, 204, 301, 302, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504)))
    if cat == "port":
        return str(rng.choice((22, 80, 443, 3306, 5432, 6379, 8080, 8443, 9200, 27017, rng.randint(1024, 65535))))
    if cat == "size":
        return rng.choice((
            dec("%.1f" % (rng.randint(1, 9999) / 10), tag) + " MB", "%d KB" % rng.randint(1, 999),
            dec("%.2f" % (rng.randint(1, 999) / 100), tag) + " GB", "%d bytes" % rng.randint(10, 99999),
        ))
    if cat == "duration":
        return rng.choice((
            "%d ms" % rng.randint(1, 9999), "%dh %02dm" % (rng.randint(1, 23), rng.randint(0, 59)),
            dec("%.1f" % (rng.randint(1, 999) / 10), tag) + " s", "%d min" % rng.randint(1, 180),
        ))
    if cat == "qty":
        return rng.choice(("%d" % rng.randint(1, 500), "x%d" % rng.randint(1, 20)))
    if cat == "sku":
        L = string.ascii_uppercase
        return "%s%s-%04d-%s%s" % (rng.choice(L), rng.choice(L), rng.randint(0, 9999), rng.choice(L), rng.choice(L))
    raise ValueError(cat)


LOG_DIS_KEY = {
    "date_iso": "date", "date_local": "date", "time": "at", "timestamp": "since", "amount": "total",
    "percent": "pct", "version": "ver", "order": "order", "zip": "zip", "isbn": "isbn",
    "uuid": "req_id", "color": "color", "coords": "geo", "status": "status", "port": "port",
    "size": "size", "duration": "took", "qty": "qty", "sku": "sku",
}
LOG_PII_KEYS = {
    "email": ("user", "email", "from"), "phone": ("phone", "tel", "msisdn"),
    "card": ("pan", "card"), "iban": ("iban", "account"), "ip": ("client", "src", "remote_addr"),
    "mac": ("mac", "hwaddr"),
}
TOKEN_LOG_KEY = {
    "aws_access_key": "aws_access_key_id", "github_token": "github_token",
    "slack_token": "slack_token", "stripe_key": "stripe_key", "google_api_key": "maps_key",
}


# --------------------------------------------------------------------------------------
# The two sources of planted values.
# --------------------------------------------------------------------------------------

ALNUM = string.ascii_letters + string.digits


class FixedClock(datetime.datetime):
    """datetime.datetime with a fixed now(), for Faker's sv_SE ssn() (it reads the clock)."""

    @classmethod
    def now(cls, tz=None):
        return cls(2025, 6, 1, 12, 0, 0, tzinfo=tz)


class Source:
    name: str
    locales: tuple

    def tag(self, locale):  # locale -> Faker-style tag for templates and formats
        return locale

    def kinds(self, locale):
        raise NotImplementedError

    def value(self, kind, locale, rng):
        """-> (text as written, value to label, rule/method, offset of value in text)."""
        raise NotImplementedError

    def filler(self, locale, rng):
        raise NotImplementedError

    def postcode(self, locale, rng):
        raise NotImplementedError


def jwt_from(rng_bits, claims: dict, alg="HS256") -> str:
    def enc(b):
        return base64.urlsafe_b64encode(b).decode().rstrip("=")
    head = enc(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    body = enc(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    sig = enc(bytes(rng_bits(8) for _ in range(32)))
    return "%s.%s.%s" % (head, body, sig)


def group_card(d: str, rng: random.Random, p_space=0.3, p_dash=0.15) -> str:
    n = len(d)
    if n == 16:
        sizes = (4, 4, 4, 4)
    elif n == 15:
        sizes = (4, 6, 5)
    elif n == 14:
        sizes = (4, 6, 4)
    elif n == 19:
        sizes = (4, 4, 4, 4, 3)
    else:
        return d
    r = rng.random()
    if r < p_space:
        sep = " "
    elif r < p_space + p_dash:
        sep = "-"
    else:
        return d
    out, i = [], 0
    for s in sizes:
        out.append(d[i:i + s])
        i += s
    return sep.join(out)


def group4(s: str) -> str:
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


class FakerSource(Source):
    name = "faker"
    locales = FAKER_LOCALES
    NID = {"en_US": ("us_ssn",), "en_GB": ("uk_nino",), "es_ES": ("es_dni", "es_nie"),
           "en_CA": ("ca_sin",), "sv_SE": ("se_personnummer",)}
    TOKENS = ("aws_access_key", "github_token", "slack_token", "stripe_key", "google_api_key",
              "jwt", "secret_assignment")

    def __init__(self, seed):
        import faker
        from faker import Faker
        import faker.providers.ssn.sv_SE as sv_ssn
        self.version = faker.VERSION
        sv_ssn.datetime = types.SimpleNamespace(datetime=FixedClock, timedelta=datetime.timedelta,
                                                date=datetime.date)
        Faker.seed(seed)
        self.f = {}
        for loc in self.locales:
            f = Faker(loc)
            f.seed_instance(derive(seed, "faker", loc))
            self.f[loc] = f
        # Card types differ per locale (zh_CN adds UnionPay, ru_RU MIR): use each locale's own.
        self.card_types = {}
        for loc, f in self.f.items():
            prov = [p for p in f.get_providers() if p.__provider__ == "faker.providers.credit_card"][0]
            self.card_types[loc] = tuple(prov.credit_card_types.keys())

    def kinds(self, locale):
        k = ["email", "phone", "card", "iban", "ip", "mac", "token"]
        if locale in self.NID:
            k.insert(6, "national_id")
        return k

    def network(self, ctype):
        return {"visa16": "visa", "visa13": "visa", "visa19": "visa", "jcb15": "jcb",
                "jcb16": "jcb"}.get(ctype, ctype)

    def value(self, kind, locale, rng):
        f = self.f[locale]
        if kind == "email":
            method = rng.choice(("email", "free_email", "company_email", "safe_email"))
            v = getattr(f, method)()
            local, _, domain = v.partition("@")
            r = rng.random()
            if r < 0.15:
                v = "%s+%s@%s" % (local, rng.choice(("news", "shop", "work", "2024", "support", "x")), domain)
                method += "+tag"
            elif r < 0.22:
                v, method = v.upper(), method + " upper"
            elif r < 0.27:
                v, method = local[:1].upper() + local[1:] + "@" + domain.capitalize(), method + " capitalized"
            return v, v, method, 0
        if kind == "phone":
            if rng.random() < 0.2:
                v = f.msisdn()
                reason = check_msisdn(v, locale)
                if reason:
                    raise Invalid(reason)
                return v, v, "msisdn", 0
            v = f.phone_number()
            return v, v, "phone_number", 0
        if kind == "card":
            ctype = rng.choice(self.card_types[locale])
            d = f.credit_card_number(card_type=ctype)
            reason = check_card(d, self.network(ctype))
            if reason:
                raise Invalid(reason)
            v = group_card(d, rng)
            return v, v, self.network(ctype) + ":" + ctype, 0
        if kind == "iban":
            v = f.iban()
            reason = check_iban(v)
            if reason:
                raise Invalid(reason)
            if rng.random() < 0.3:
                v = group4(v)
            return v, v, "iban", 0
        if kind == "ip":
            method = rng.choice(("ipv4", "ipv4_private", "ipv4_public", "ipv6"))
            v = getattr(f, method)()
            return v, v, method, 0
        if kind == "mac":
            v = f.mac_address()
            r = rng.random()
            if r < 0.2:
                v = v.upper()
            elif r < 0.35:
                v = v.upper().replace(":", "-")
            return v, v, "mac_address", 0
        if kind == "national_id":
            rule = rng.choice(self.NID[locale])
            if rule == "us_ssn":
                v = f.ssn()
                if rng.random() < 0.15:
                    v = v.replace("-", " ")
            elif rule == "uk_nino":
                v = self.nino(f.random)
            elif rule == "es_dni":
                v = f.nif()
            elif rule == "es_nie":
                v = f.nie()
            elif rule == "ca_sin":
                v = f.ssn()
            else:
                v = f.ssn(long=rng.random() < 0.3)
            return v, v, rule, 0
        if kind == "token":
            rule = rng.choice(self.TOKENS)
            if rule == "aws_access_key":
                v = "AKIA" + f.lexify("?" * 16, letters="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
            elif rule == "github_token":
                v = "ghp_" + f.lexify("?" * 36, letters=ALNUM)
            elif rule == "slack_token":
                v = "xoxb-%s-%s-%s" % (f.numerify("%" + "#" * 11), f.numerify("%" + "#" * 12),
                                       f.lexify("?" * 24, letters=ALNUM))
            elif rule == "stripe_key":
                v = rng.choice(("sk_live_", "rk_live_", "sk_test_")) + f.lexify("?" * 24, letters=ALNUM)
            elif rule == "google_api_key":
                v = "AIza" + f.lexify("?" * 35, letters=ALNUM + "_-")
            elif rule == "jwt":
                claims = {"sub": f.uuid4(), "name": f.name(), "email": f.email(),
                          "iat": f.random_int(1_600_000_000, 1_800_000_000)}
                v = jwt_from(f.random.getrandbits, claims)
            else:
                key = rng.choice(ASSIGN_KEYS)
                val = rng.choice((f.password(length=rng.randint(10, 20)), f.sha1()[:rng.choice((24, 32, 40))]))
                reason = check_token(val, rule)
                if reason:
                    raise Invalid(reason)
                a = key + rng.choice(("=", "=", ": "))
                return a + val, val, rule, len(a)
            return v, v, rule, 0
        raise ValueError(kind)

    @staticmethod
    def nino(r: random.Random) -> str:
        # HMRC: first letter not D F I Q U V; second not D F I Q U V O; not BG GB KN NK NT TN ZZ.
        while True:
            p = r.choice(string.ascii_uppercase) + r.choice(string.ascii_uppercase)
            if p[0] not in NINO_BAD_FIRST and p[1] not in NINO_BAD_SECOND and p not in NINO_BAD_PREFIX:
                break
        digits = "%06d" % r.randint(0, 999999)
        suffix = r.choice("ABCD")
        if r.random() < 0.5:
            return "%s %s %s %s %s" % (p, digits[:2], digits[2:4], digits[4:], suffix)
        return p + digits + suffix

    def filler(self, locale, rng):
        return self.f[locale].sentence(nb_words=rng.randint(4, 10))

    def postcode(self, locale, rng):
        f = self.f[locale]
        if locale == "en_US" and rng.random() < 0.4:
            return f.zipcode_plus4()
        return f.postcode()


class MimesisSource(Source):
    name = "mimesis"
    locales = MIMESIS_LOCALES
    TOKENS = ("jwt", "stripe_key", "secret_assignment")

    def __init__(self, seed):
        import mimesis
        from mimesis import Address, Cryptographic, Internet, Payment, Person, Text
        from mimesis.enums import CardType
        self.version = mimesis.__version__
        self.CardType = CardType
        self.person, self.text, self.address = {}, {}, {}
        for loc in self.locales:
            self.person[loc] = Person(loc, seed=derive(seed, "mimesis", "person", loc))
            self.text[loc] = Text(loc, seed=derive(seed, "mimesis", "text", loc))
            self.address[loc] = Address(loc, seed=derive(seed, "mimesis", "address", loc))
        self.internet = Internet(seed=derive(seed, "mimesis", "internet"))
        self.payment = Payment(seed=derive(seed, "mimesis", "payment"))
        self.crypto = Cryptographic(seed=derive(seed, "mimesis", "crypto"))

    def tag(self, locale):
        return MIMESIS_TAG[locale]

    def kinds(self, locale):
        return ["email", "phone", "card", "ip", "mac", "token"]

    def value(self, kind, locale, rng):
        p = self.person[locale]
        if kind == "email":
            v = p.email()
            return v, v, "Person.email", 0
        if kind == "phone":
            v = p.phone_number()
            return v, v, "Person.phone_number", 0
        if kind == "card":
            ct = rng.choice(list(self.CardType))
            v = self.payment.credit_card_number(card_type=ct)
            net = {"VISA": "visa", "MASTER_CARD": "mastercard", "AMERICAN_EXPRESS": "amex"}[ct.name]
            reason = check_card(v, net)
            if reason:
                raise Invalid(reason)
            if rng.random() < 0.3:
                v = v.replace(" ", "")
            return v, v, net + ":" + ct.name, 0
        if kind == "ip":
            r = rng.random()
            if r < 0.45:
                v = self.internet.ip_v4()
                return v, v, "ip_v4", 0
            if r < 0.6:
                w = self.internet.ip_v4_with_port()
                return w, w.rsplit(":", 1)[0], "ip_v4_with_port", 0
            v = self.internet.ip_v6()
            return v, v, "ip_v6", 0
        if kind == "mac":
            v = self.internet.mac_address()
            return v, v, "mac_address", 0
        if kind == "token":
            rule = rng.choice(self.TOKENS)
            if rule == "jwt":
                claims = {"sub": self.crypto.uuid(), "name": p.full_name(), "email": p.email(),
                          "iat": rng.randint(1_600_000_000, 1_800_000_000)}
                v = self.crypto.jwt(payload=claims)
                return v, v, "jwt:Cryptographic.jwt", 0
            if rule == "stripe_key":
                v = self.crypto.api_key(prefix=rng.choice(("sk_live_", "pk_live_", "rk_test_")),
                                        length=rng.choice((24, 32)), fmt="hex")
                return v, v, "stripe_key:Cryptographic.api_key(prefix)", 0
            key = rng.choice(ASSIGN_KEYS)
            r = rng.random()
            if r < 0.5:
                val, method = p.password(length=rng.randint(10, 20)), "Person.password"
            elif r < 0.75:
                val, method = self.crypto.token_urlsafe(rng.choice((16, 24, 32))), "Cryptographic.token_urlsafe"
            else:
                val, method = self.crypto.api_key(length=32), "Cryptographic.api_key"
            reason = check_token(val, "secret_assignment")
            if reason:
                raise Invalid(reason)
            a = key + rng.choice(("=", "=", ": "))
            return a + val, val, "secret_assignment:" + method, len(a)
        raise ValueError(kind)

    def filler(self, locale, rng):
        return self.text[locale].sentence()

    def postcode(self, locale, rng):
        return self.address[locale].postal_code()


# --------------------------------------------------------------------------------------
# Line composition
# --------------------------------------------------------------------------------------

class Planted:
    __slots__ = ("kind", "written", "value", "off", "rule")

    def __init__(self, kind, written, value, off, rule):
        self.kind, self.written, self.value, self.off, self.rule = kind, written, value, off, rule


def fill_template(t: str, v: str):
    pre, post = t.split("{v}")
    return pre, post


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def compose_ticket(rng, src, locale, planted, dis_values, filler):
    """-> list of (segment, Planted|None)."""
    L = LANG[LOCALE_LANG[src.tag(locale)]]
    clauses = []
    for p in planted:
        if p.kind == "token" and p.rule.startswith("secret_assignment"):
            t = rng.choice(L["assign"])
            pre, post = t.split("{a}")
            clauses.append([(pre, None), (p.written, p), (post, None)])
            continue
        if p.kind == "national_id":
            t = rng.choice(L["nid"]).replace("{label}", NID_LABEL[p.rule])
        else:
            t = rng.choice(L["pii"][p.kind])
        pre, post = fill_template(t, p.value)
        clauses.append([(pre, None), (p.written, p), (post, None)])
    for cat, v in dis_values:
        pre, post = fill_template(L["dis"][cat], v)
        clauses.append([(pre + v + post, None)])
    rng.shuffle(clauses)
    segs = []
    first = True
    for i, c in enumerate(clauses):
        if i:
            sep = rng.choice(L["sep"])
            segs.append((sep, None))
            first = sep.strip() in (".", "。")
        if first and L["latin"] and c[0][0]:
            c = [(cap(c[0][0]), c[0][1])] + c[1:]
        segs.extend(c)
        first = False
    segs.append((L["end"], None))
    if filler:
        sp = "" if LOCALE_LANG[src.tag(locale)] in ("ja", "zh") else " "
        if rng.random() < 0.5:
            segs.insert(0, (filler + sp, None))
        else:
            segs.append((sp + filler, None))
    return segs


def compose_log(rng, src, locale, planted, dis_values, filler, ts):
    level = rng.choice(("INFO", "WARN", "ERROR", "DEBUG", "info", "warn"))
    comp = rng.choice(("api", "auth", "billing", "gateway", "worker", "sync", "mailer", "checkout"))
    fields = []
    used = set()
    for p in planted:
        if p.kind == "token":
            if p.rule.startswith("secret_assignment"):
                fields.append([(p.written, p)])
            elif p.rule.split(":")[0] == "jwt":
                fields.append([("Authorization: Bearer ", None), (p.written, p)])
            else:
                fields.append([(TOKEN_LOG_KEY[p.rule.split(":")[0]] + "=", None), (p.written, p)])
            continue
        if p.kind == "national_id":
            key = NID_LOG_KEY[p.rule]
        else:
            keys = [k for k in LOG_PII_KEYS[p.kind] if k not in used] or list(LOG_PII_KEYS[p.kind])
            key = rng.choice(keys)
        used.add(key)
        if " " in p.written:
            fields.append([(key + '="', None), (p.written, p), ('"', None)])
        else:
            fields.append([(key + "=", None), (p.written, p)])
    for cat, v in dis_values:
        key = LOG_DIS_KEY[cat]
        fields.append([(key + ('="%s"' % v if " " in v else "=" + v), None)])
    rng.shuffle(fields)
    segs = [("%s %s %s:" % (ts, level, comp), None)]
    for fl in fields:
        segs.append((" ", None))
        segs.extend(fl)
    if filler:
        segs.append((' msg="%s"' % filler.replace('"', "'"), None))
    return segs


def pick_count(rng):
    r = rng.random()
    if r < 1 / 3:
        return 0
    r = rng.random()
    return 1 if r < 0.45 else 2 if r < 0.8 else 3


class Stats:
    def __init__(self):
        self.dropped = Counter()
        self.spans = Counter()
        self.methods = Counter()
        self.regen = Counter()
        self.no_pii = 0
        self.lines = 0
        self.ambiguous = Counter()
        self.drop_locales = {}

    def drop(self, kind, reason, locale):
        key = reason if reason.startswith(kind + ":") else "%s: %s" % (kind, reason)
        self.dropped[key] += 1
        self.drop_locales.setdefault(key, Counter())[locale] += 1


def plant(src, locale, rng, stats):
    kinds = src.kinds(locale)
    # National ids exist in 5 of 16 Faker locales: weight them 3x there so the kind gets a
    # share of spans close to the others.
    kind = rng.choices(kinds, weights=[3 if k == "national_id" else 1 for k in kinds])[0]
    for _ in range(4):
        try:
            written, value, rule, off = src.value(kind, locale, rng)
        except Invalid as e:
            stats.drop(kind, str(e), locale)
            continue
        check_rule = rule.split(":")[0]
        reason = check(kind, value, check_rule)
        if reason:
            stats.drop(kind, reason, locale)
            continue
        assert written[off:off + len(value)] == value
        return Planted(kind, written, value, off, rule)
    return None


def ambiguity(p: Planted):
    """Valid phones that another kind's rule could also claim (kept, but counted)."""
    if p.kind != "phone":
        return None
    v = p.value
    if re.fullmatch(r"\d{3}([ -])\d{3}\1\d{3}", v) and luhn_ok(re.sub(r"\D", "", v)) and v[0] not in "08":
        return "phone with the shape and Luhn of a Canadian SIN"
    if re.fullmatch(r"\d{3}([- ])\d{2}\1\d{4}", v):
        return "phone with the shape of a US SSN"
    d = re.sub(r"[ -]", "", v)
    if d.isdigit() and 13 <= len(d) <= 19 and luhn_ok(d):
        for net in ("visa", "mastercard", "amex", "discover", "jcb", "diners"):
            if card_network_reason(d, net) is None:
                return "phone digits that also form a valid %s number" % net
    return None


def make_line(src, rng, stats):
    locale = rng.choice(src.locales)
    tag = src.tag(locale)
    for attempt in range(20):
        n = pick_count(rng)
        planted = []
        for _ in range(n):
            p = plant(src, locale, rng, stats)
            if p:
                planted.append(p)
        ndis = rng.randint(2, 5) if planted else rng.randint(3, 6)
        dis_values = [(c, distractor(rng, c, tag, lambda: src.postcode(locale, rng)))
                      for c in rng.sample(DIS_CATS, ndis)]
        filler = None
        if rng.random() < (0.55 if planted else 0.85):
            filler = src.filler(locale, rng).strip()
            if filler and filler[-1] not in ".!?。！？":
                filler += "。" if LOCALE_LANG[tag] in ("ja", "zh") else "."
        if rng.random() < 0.25:
            ts = distractor(rng, "timestamp", tag, None)
            if not re.match(r"\d{4}-", ts):
                ts = "%sT00:00:%02dZ" % (rand_date(rng).isoformat(), rng.randint(0, 59))
            segs = compose_log(rng, src, locale, planted, dis_values, filler, ts)
        else:
            segs = compose_ticket(rng, src, locale, planted, dis_values, filler)
        text = "".join(s for s, _ in segs)
        spans = []
        pos = 0
        for s, p in segs:
            b = len(s.encode())
            if p is not None:
                start = pos + len(s[:p.off].encode())
                spans.append((start, start + len(p.value.encode()), p))
            pos += b
        problem = validate_line(text, spans)
        if problem:
            stats.regen[problem] += 1
            continue
        return locale, text, spans
    raise RuntimeError("could not compose a clean line")


def validate_line(text, spans):
    tb = text.encode()
    if "\n" in text or "\r" in text:
        return "newline in text"
    values = [p.value for _, _, p in spans]
    for i, (s, e, p) in enumerate(spans):
        if tb[s:e].decode() != p.value:
            return "span mismatch"
        if text.count(p.value) != 1:
            return "planted value occurs more than once (distractor or filler contains it)"
        for j, w in enumerate(values):
            if i != j and p.value in w:
                return "planted value inside another planted value"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--generator", choices=("faker", "mimesis"), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    src = FakerSource(args.seed) if args.generator == "faker" else MimesisSource(args.seed)
    pinned = PINNED[args.generator]
    if src.version != pinned:
        sys.stderr.write("warning: %s %s installed, the corpus is defined for %s "
                         "(pip install -r benches/requirements.txt)\n" % (src.name, src.version, pinned))
    rng = random.Random(derive(args.seed, args.generator, "lines"))
    stats = Stats()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".partial"
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        for _ in range(args.lines):
            locale, text, spans = make_line(src, rng, stats)
            rec = {"generator": "%s/%s" % (src.name, locale), "text": text,
                   "spans": [[s, e, p.kind] for s, e, p in spans]}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            stats.lines += 1
            if not spans:
                stats.no_pii += 1
            for _, _, p in spans:
                stats.spans[p.kind] += 1
                stats.methods["%s %s" % (p.kind, p.rule)] += 1
                a = ambiguity(p)
                if a:
                    stats.ambiguous[a] += 1
    os.replace(tmp, args.out)
    report(args, src, stats)


def report(args, src, st):
    w = sys.stdout.write
    w("%s %s: %d lines -> %s (seed %d)\n" % (src.name, src.version, st.lines, args.out, args.seed))
    w("spans per kind:\n")
    for k in KINDS:
        w("  %-12s %6d\n" % (k, st.spans[k]))
    w("  %-12s %6d\n" % ("total", sum(st.spans.values())))
    w("lines with no spans: %d (%.1f%%)\n" % (st.no_pii, 100 * st.no_pii / max(st.lines, 1)))
    w("spans per kind and source method:\n")
    for k, n in sorted(st.methods.items()):
        w("  %6d  %s\n" % (n, k))
    w("values dropped as invalid (not written), by reason: %d\n" % sum(st.dropped.values()))
    for k, n in sorted(st.dropped.items(), key=lambda kv: (-kv[1], kv[0])):
        locs = st.drop_locales[k]
        w("  %6d  %s  [%s]\n" % (n, k, " ".join("%s:%d" % kv for kv in sorted(locs.items()))))
    if st.ambiguous:
        w("valid values kept that another kind's rule could also claim:\n")
        for k, n in sorted(st.ambiguous.items()):
            w("  %6d  %s\n" % (n, k))
    if st.regen:
        w("lines composed again (collision checks):\n")
        for k, n in sorted(st.regen.items()):
            w("  %6d  %s\n" % (n, k))


if __name__ == "__main__":
    main()
