#!/usr/bin/env bash
# The benchmark of issue [O] (not a test): generated shops of the given
# sizes; for each, side by side from one run, against the physical limits:
#   - full orders extract: magsync against a raw dump by the mysql C client
#     (--quick --batch) of every table the extract reads (benches/
#     dump_tables.py: orders with their status name, orders_total,
#     orders_status_history, orders_products, orders_products_attributes),
#     and against a pymysql script dumping the same tables to CSV
#     (benches/dump_orders.py), what a user would write instead; the raw
#     dump and the extract alternate MAGSYNC_BENCH_REPEAT times (default
#     3) and their medians are compared;
#   - the load of the transformed batch into the embedded Magazyn (SQLite)
#     against `sqlite3 .import` of the batch's two CSV files;
#   - where a Firebird 3 server answers on 127.0.0.1:3050 (SYSDBA password in
#     /etc/firebird/3.0/SYSDBA.password or MAGSYNC_BENCH_FIREBIRD_PASSWORD),
#     the load of the same batch into a Magazyn on Firebird against the
#     SQLite load, for sizes up to MAGSYNC_BENCH_FIREBIRD_MAX orders
#     (default 200000);
#     and the engine's own time for the same rows, a PSQL loop on the
#     server with no client (benches/firebird_floor.sh), against the load;
#   - an incremental sync after 1 000 changed orders against the full sync;
#   - peak RSS of every magsync step.
#
#   benches/full.sh [ORDERS ...]        (default: 10000 100000)
#
# Needs MariaDB (root, no password, 127.0.0.1), /usr/bin/time, sqlite3, bc;
# installs pymysql with pip.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)
server=mysql://root@127.0.0.1:3306
python3 -c 'import pymysql' 2>/dev/null || python3 -m pip install --quiet pymysql
cargo build --release --quiet --bin magsync --example gen_shop
bin=$PWD/target/release/magsync
benches=$PWD/benches
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timed() { # timed NAME CMD... : seconds and peak RSS (MB) into $work/NAME.t
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/$name.t" "$@" > "$work/$name.out" 2>&1
  read -r s k < "$work/$name.t"; echo "$s $((k / 1024))"
}
ratio() { printf "%.3f" "$(echo "scale=4; $1 / $2" | bc -l)"; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
reps=${MAGSYNC_BENCH_REPEAT:-3}
# The raw dump: every table of dump_tables.py through the C client.
cat > "$work/dump.sh" <<SH
python3 "$benches/dump_tables.py" | while IFS=\$'\\t' read -r name sql; do
  mysql -h127.0.0.1 -uroot --quick --batch "\$1" -e "\$sql" > "\$2/\$name.tsv"
done
SH

for n in "${sizes[@]}"; do
  db="magsync_bench_$n"
  if ! mysql -h127.0.0.1 -uroot -N -e "SELECT COUNT(*) FROM $db.orders" 2>/dev/null | grep -qx "$n"; then
    target/release/examples/gen_shop --url "$server/$db" --orders "$n" >/dev/null 2>&1
  fi
  site="$work/site-$n"; rm -rf "$site"; mkdir -p "$site"
  cat > "$site/magsync.toml" <<TOML
site = "bench"
staging = "staging"
[magazyn]
url = "sqlite://magazyn.db"
[shops.b]
url = "$server/$db"
warehouse = "MAG"
order_prefix = "B/"
customer_code_prefix = "B-"
TOML
  cd "$site"
  echo "== $n orders =="
  # The Magazyn knows the goods and the customers (as after the catalog and customers flows).
  $bin --config magsync.toml sync --shop b --flow catalog customers >/dev/null || true

  rm -rf "$work/raw" "$work/py"; mkdir -p "$work/raw" "$work/py"
  read -r p_s p_m < <(timed python python3 "$benches/dump_orders.py" "$db" "$work/py")
  # The raw dump and the extract alternate, MAGSYNC_BENCH_REPEAT times
  # each (default 3), and the ratio is of their medians: the same command
  # varies by a quarter from minute to minute on this machine, and this
  # ratio is the goal nearest its mark. Every extract but the last runs in
  # a copy of the site, so that one batch goes on to the transform.
  c_all=(); x_all=()
  for i in $(seq "$reps"); do
    read -r c_s c_m < <(timed client bash "$work/dump.sh" "$db" "$work/raw")
    c_all+=("$c_s")
    if [ "$i" -lt "$reps" ]; then
      rm -rf "$work/rep"; cp -a "$site" "$work/rep"
      read -r x_s x_m < <(cd "$work/rep" && timed extract $bin --config magsync.toml extract --shop b --flow orders --full)
      rm -rf "$work/rep"
    else
      read -r x_s x_m < <(timed extract $bin --config magsync.toml extract --shop b --flow orders --full)
    fi
    x_all+=("$x_s")
  done
  c_s=$(median "${c_all[@]}"); x_s=$(median "${x_all[@]}")
  batch=$(ls -d staging/outbox/b.orders.extracted.* | tail -1)
  read -r t_s t_m < <(timed transform $bin --config magsync.toml transform "$batch")
  tbatch=$(ls -d staging/work/b.orders.transformed.* | tail -1)
  read -r l_s l_m < <(timed load $bin --config magsync.toml load "$tbatch")
  rm -f import.db
  read -r i_s i_m < <(timed import sqlite3 import.db ".import --csv $tbatch/data/orders.csv orders" ".import --csv $tbatch/data/order_lines.csv order_lines")
  fb_line=""
  fb_pass=${MAGSYNC_BENCH_FIREBIRD_PASSWORD:-$(sed -n 's/^ISC_PASSWORD="\(.*\)"$/\1/p' /etc/firebird/3.0/SYSDBA.password 2>/dev/null || true)}
  if [ -n "$fb_pass" ] && ss -ltn | grep -q ':3050 ' && [ "$n" -le "${MAGSYNC_BENCH_FIREBIRD_MAX:-200000}" ]; then
    fdb=/var/lib/firebird/3.0/data/magsync_bench_$n.fdb
    rm -f "$fdb"
    # Its own staging: the Firebird Magazyn learns the goods and customers
    # by its own catalog and customers sync, as the SQLite one did.
    sed -e "s|^url = \"sqlite://magazyn.db\"|url = \"firebird://SYSDBA@127.0.0.1:3050$fdb\"\npassword_env = \"FB_BENCH_PASSWORD\"|" \
        -e 's|^staging = "staging"|staging = "staging-fb"|' magsync.toml > fb.toml
    export FB_BENCH_PASSWORD="$fb_pass"
    $bin --config fb.toml sync --shop b --flow catalog customers >/dev/null
    cp -p "$fdb" "$fdb.floor"
    read -r b_s b_m < <(timed fbload $bin --config fb.toml load "$tbatch")
    fb_line=$(printf '%-44s %9s %9s %12s  (the SQLite load over this)' "magsync load into Firebird 3" "$b_s" "$b_m" "$(ratio "$l_s" "$b_s")")
    # The engine's own time for the same rows (benches/firebird_floor.sh):
    # a PSQL loop on the server, no client.
    rows=$(python3 -c 'import csv, sys; print(*(sum(1 for _ in csv.reader(open(f, newline=""))) - 1 for f in sys.argv[1:]))' "$tbatch/data/orders.csv" "$tbatch/data/order_lines.csv")
    floor_s=$(MAGSYNC_BENCH_FIREBIRD_PASSWORD="$fb_pass" "$benches/firebird_floor.sh" "$fdb.floor" $rows)
    fb_line+=$'\n'$(printf '%-44s %9s %9s %12s  (the floor over the Firebird load)' "Firebird's own PSQL loop, same rows" "$floor_s" "-" "$(ratio "$floor_s" "$b_s")")
    rm -f "$fdb" "$fdb.floor"
  fi
  read -r f_s f_m < <(timed full $bin --config magsync.toml sync --shop b --flow orders --full)
  # Orders changed by an earlier run of this benchmark on the same shop,
  # within the overlap (`overlap_minutes`), are dated back a day (the full
  # sync above has them as they are): otherwise this round would read them
  # too (at 200 000 orders, 2 000 orders instead of 1 000: 0.125 of the full
  # sync, not 0.09).
  mysql -h127.0.0.1 -uroot "$db" -e "UPDATE orders SET last_modified = last_modified - INTERVAL 1 DAY WHERE last_modified >= NOW() - INTERVAL 3 HOUR"
  mysql -h127.0.0.1 -uroot "$db" -e "UPDATE orders SET orders_status = 3, last_modified = NOW() WHERE orders_id IN (SELECT orders_id FROM (SELECT orders_id FROM orders ORDER BY RAND() LIMIT 1000) x)"
  read -r u_s u_m < <(timed incr $bin --config magsync.toml sync --shop b --flow orders)
  updated=$(grep -o '[0-9]* updated' "$work/incr.out" | head -1)
  # The same with the opt-in watermark indexes (`magsync index`), removed after.
  # The first round's changes are dated a day back, as if made before the
  # night's run before: otherwise this run, seconds after that one, would
  # read them again within the overlap (`overlap_minutes`) and measure
  # 2 000 changed orders, not 1 000.
  $bin --config magsync.toml index --shop b >/dev/null
  mysql -h127.0.0.1 -uroot "$db" -e "UPDATE orders SET last_modified = last_modified - INTERVAL 1 DAY WHERE last_modified >= NOW() - INTERVAL 1 HOUR"
  mysql -h127.0.0.1 -uroot "$db" -e "UPDATE orders SET orders_status = 2, last_modified = NOW() WHERE orders_id IN (SELECT orders_id FROM (SELECT orders_id FROM orders ORDER BY RAND() LIMIT 1000) x)"
  read -r v_s v_m < <(timed incrx $bin --config magsync.toml sync --shop b --flow orders)
  $bin --config magsync.toml index --shop b --drop >/dev/null
  printf '%-44s %9s %9s %12s\n' "" seconds "peak MB" ratio
  printf '%-44s %9s %9s %12s  (median of: %s)\n' "raw dump, mysql --quick --batch (5 tables)" "$c_s" "$c_m" "1.00" "${c_all[*]}"
  printf '%-44s %9s %9s %12s\n' "pymysql dump of the same tables to CSV" "$p_s" "$p_m" "$(ratio "$c_s" "$p_s")"
  printf '%-44s %9s %9s %12s  (vs raw dump; vs pymysql: %s; median of: %s)\n' "magsync extract --full (checksummed bag)" "$x_s" "$x_m" "$(ratio "$c_s" "$x_s")" "$(ratio "$p_s" "$x_s")" "${x_all[*]}"
  printf '%-44s %9s %9s\n' "magsync transform" "$t_s" "$t_m"
  printf '%-44s %9s %9s %12s\n' "magsync load (one transaction)" "$l_s" "$l_m" "$(ratio "$i_s" "$l_s")"
  printf '%-44s %9s %9s %12s\n' "sqlite3 .import of the same two files" "$i_s" "$i_m" "1.00"
  printf '%-44s %9s %9s %12s\n' "magsync transform + load" "$(echo "$t_s + $l_s" | bc)" "-" "$(ratio "$i_s" "$(echo "$t_s + $l_s" | bc)")"
  [ -z "$fb_line" ] || echo "$fb_line"
  printf '%-44s %9s %9s\n' "magsync sync --full (all unchanged)" "$f_s" "$f_m"
  printf '%-44s %9s %9s %12s  (%s)\n' "magsync sync after 1000 changed orders" "$u_s" "$u_m" "$(ratio "$u_s" "$f_s")" "$updated"
  printf '%-44s %9s %9s %12s\n' "  the same with \`magsync index\` indexes" "$v_s" "$v_m" "$(ratio "$v_s" "$f_s")"
  cd "$OLDPWD"
done
echo "(ratio: the baseline's time over magsync's, >1 = magsync faster; for the incremental line: incremental over full)"
