#!/usr/bin/env python3
"""The script a user writes instead of magsync: pymysql with a streaming
cursor, every table an orders extract reads dumped to a CSV file as it
comes (no query of magsync's). Used by benches/full.sh.

    dump_orders.py DATABASE OUTDIR"""
import csv, sys, pymysql, pymysql.cursors

from dump_tables import TABLES

db, out = sys.argv[1], sys.argv[2]
conn = pymysql.connect(host="127.0.0.1", user="root", database=db, charset="utf8mb4",
                       cursorclass=pymysql.cursors.SSCursor)
for name, sql in TABLES:
    with conn.cursor() as cur, open(f"{out}/{name}.csv", "w", newline="") as f:
        cur.execute(sql)
        w = csv.writer(f)
        w.writerow([d[0] for d in cur.description])
        for row in cur:
            w.writerow(row)
conn.close()
