#!/usr/bin/env bash
# The Firebird engine's own time for writing a load's rows (not a test):
# one PSQL loop, run by the server itself in one transaction, inserts
# ORDERS orders and LINES lines spread over them into the Magazyn FDB, each
# line taking its order's id from the order's RETURNING, with the schema's
# keys, foreign keys and checks as a load meets them. No client, no wire, no
# parameter: every value is a literal the server compiles once. What a load
# through the network cannot beat on this server.
#
#   benches/firebird_floor.sh FDB ORDERS LINES     (prints the seconds)
#
# FDB: a Magazyn as `magsync` creates it, with at least one customer, one
# warehouse and one good (after the catalog and customers flows); its
# orders are left there (run it on a copy). Needs isql-fb; the SYSDBA
# password from MAGSYNC_BENCH_FIREBIRD_PASSWORD or
# /etc/firebird/3.0/SYSDBA.password.
set -euo pipefail
fdb=$1 orders=$2 lines=$3
export ISC_USER=SYSDBA
export ISC_PASSWORD=${MAGSYNC_BENCH_FIREBIRD_PASSWORD:-$(sed -n 's/^ISC_PASSWORD="\(.*\)"$/\1/p' /etc/firebird/3.0/SYSDBA.password)}
sql=$(mktemp)
trap 'rm -f "$sql"' EXIT
# Values of a generated order and line, of their usual lengths.
cat > "$sql" <<SQL
SET TERM ^ ;
EXECUTE BLOCK AS
  DECLARE i INTEGER = 0;
  DECLARE k INTEGER;
  DECLARE n INTEGER;
  DECLARE oid BIGINT;
  DECLARE cid BIGINT;
  DECLARE wid BIGINT;
  DECLARE gid BIGINT;
BEGIN
  SELECT MIN(id) FROM customers INTO :cid;
  SELECT MIN(id) FROM warehouses INTO :wid;
  SELECT MIN(id) FROM goods INTO :gid;
  WHILE (i < $orders) DO
  BEGIN
    INSERT INTO orders (number, confirmed_number, shop, customer_id, warehouse_id, ordered_at,
        status, description, currency, currency_rate, buyer_name, buyer_nip, buyer_street,
        buyer_postcode, buyer_city, buyer_country, recipient_name, recipient_street,
        recipient_postcode, recipient_city, recipient_country, recipient_phone,
        recipient_email, total_net, total_gross, created_at, updated_at, reserved,
        buyer_is_company, customer_comment)
    VALUES ('F/' || :i, :i, 'b', :cid, :wid, '2025-02-02T01:01:01', 'Oczekujące',
        'Płatność: PayPal; Dostawa: Paczkomaty InPost (Paczkomat); Status w sklepie: Oczekujące',
        'PLN', 1, 'Aleksandra Szczęsny', NULL, 'ul. Kościuszki 101/29', '50-077', 'Wrocław',
        'PL', 'Aleksandra Szczęsny', 'ul. Kościuszki 101/29', '50-077', 'Wrocław', 'PL',
        '+48 577 598 620', 'Aleksandra.Szczesny12358@Example.PL', 2082.32, 2202.94,
        '2026-12-03T06:00:00Z', '2026-12-03T06:00:00Z', 1, 0, NULL)
    RETURNING id INTO :oid;
    -- This order's share of the lines: LINES spread evenly over ORDERS.
    n = (CAST(i + 1 AS BIGINT) * $lines) / $orders - (CAST(i AS BIGINT) * $lines) / $orders;
    k = 1;
    WHILE (k <= n) DO
    BEGIN
      INSERT INTO order_lines (order_id, line_no, good_id, code, name, quantity, unit_net,
          vat_rate, unit_gross, total_net, total_gross, kind)
      VALUES (:oid, :k, :gid, 'PL-01372', 'Herbata zielona ekologiczny (Kolor: żółty, Rozmiar: XL)',
          2, 957.37, 5.00, 1005.24, 1914.74, 2010.48, 'good');
      k = k + 1;
    END
    i = i + 1;
  END
END^
COMMIT^
SQL
start=$(date +%s.%N)
isql-fb -q -ch UTF8 "127.0.0.1:$fdb" -i "$sql"
end=$(date +%s.%N)
printf '%.2f\n' "$(echo "$end - $start" | bc -l)"
