#!/usr/bin/env python3
"""The script users write instead of magsync: pymysql + csv, the same two
queries (orders, lines) streamed to CSV files. Used by benches/full.sh."""
import csv, sys, pymysql, pymysql.cursors

db, orders_sql, lines_sql, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
conn = pymysql.connect(host="127.0.0.1", user="root", database=db, charset="utf8mb4",
                       cursorclass=pymysql.cursors.SSCursor)
for name, path in (("orders", orders_sql), ("lines", lines_sql)):
    with conn.cursor() as cur, open(f"{out}/{name}.csv", "w", newline="") as f:
        cur.execute(open(path).read())
        w = csv.writer(f)
        w.writerow([d[0] for d in cur.description])
        for row in cur:
            w.writerow(row)
conn.close()
