"""The fixture's `users` columns with Python Faker, one row at a time, the
way a person would write it: the slow end of BENCHMARKS.md's data-synthesis
row. usage: python faker_users.py ROWS OUT.csv [TENANTS]"""
import csv
import random
import sys
from datetime import datetime

from faker import Faker

rows = int(sys.argv[1])
out = sys.argv[2]
tenants = int(sys.argv[3]) if len(sys.argv) > 3 else 25000
fake = Faker("en_US")
Faker.seed(7)
random.seed(7)
ids = range(1, tenants + 1)
cum = []
acc = 0.0
for r in ids:
    acc += r ** -1.1
    cum.append(acc)
start, end = datetime(2021, 1, 1), datetime(2026, 11, 1)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "tenant_id", "email", "name", "phone", "signup_at"])
    for i in range(1, rows + 1):
        tenant = "t-%05d" % random.choices(ids, cum_weights=cum)[0]
        phone = "" if random.random() < 0.2 else fake.phone_number()
        signup = fake.date_time_between(start, end).strftime("%Y-%m-%d %H:%M:%S")
        w.writerow([i, tenant, fake.unique.safe_email(), fake.name(), phone, signup])
