#!/usr/bin/env bash
# Benchmark (not a test): a full orders extract on generated shops, against
# the `mysql` C client streaming the same two queries to a file.
#
#   benches/extract_orders.sh [ORDERS ...]      (default: 10000 100000)
#
# Needs MariaDB at $MAGSYNC_BENCH_MYSQL (default mysql://root@127.0.0.1:3306)
# and /usr/bin/time (Debian package `time`). Prints, per shop size: wall time,
# orders/s, peak RSS of magsync, and the ratio to the mysql client.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${MAGSYNC_BENCH_MYSQL:-mysql://root@127.0.0.1:3306}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)

cargo build --release --quiet --bin magsync --example gen_shop
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The templates with their parameters filled in for a full extract.
fill() {
  sed -e 's/:full/1/g' -e "s/:since/'1970-01-01 00:00:00'/g" -e 's/:after_id/0/g' \
      -e 's/:max_id/2147483647/g' -e 's/:language_id/1/g' "$1" | grep -v '^--'
}
fill templates/oscommerce-2.3/orders.extract.mysql.sql > "$work/orders.sql"
fill templates/oscommerce-2.3/orders.lines.mysql.sql > "$work/lines.sql"

printf '%-9s %-22s %10s %12s %10s %12s\n' orders tool seconds orders/s "peak RSS" "vs mysql"
for n in "${sizes[@]}"; do
  db="magsync_bench_$n"
  if ! mysql -h127.0.0.1 -uroot -N -e "SELECT COUNT(*) FROM $db.orders" 2>/dev/null | grep -qx "$n"; then
    target/release/examples/gen_shop --url "$server/$db" --orders "$n" >/dev/null 2>&1
  fi
  cat > "$work/magsync.toml" <<TOML
site = "bench"
staging = "staging-$n"
[shops.b]
url = "$server/$db"
order_prefix = "B/"
TOML
  rm -rf "$work/staging-$n"
  # mysql client: both queries, streamed (--quick) to a file.
  /usr/bin/time -f '%e %M' -o "$work/mysql.time" \
    sh -c "mysql -h127.0.0.1 -uroot --quick --batch $db < '$work/orders.sql' > '$work/o.tsv' && mysql -h127.0.0.1 -uroot --quick --batch $db < '$work/lines.sql' > '$work/l.tsv'"
  read -r ms mrss < "$work/mysql.time"
  /usr/bin/time -f '%e %M' -o "$work/magsync.time" \
    target/release/magsync --config "$work/magsync.toml" extract --shop b --flow orders --full > "$work/out.txt"
  read -r s rss < "$work/magsync.time"
  rows=$(grep -o '[0-9]* records' "$work/out.txt" | head -1 | cut -d' ' -f1)
  printf '%-9s %-22s %10s %12.0f %9d MB %12s\n' "$n" "mysql --quick --batch" "$ms" "$(echo "$n / $ms" | bc -l)" $((mrss / 1024)) "1.00"
  printf '%-9s %-22s %10s %12.0f %9d MB %11.2fx\n' "$n" "magsync extract" "$s" "$(echo "$rows / $s" | bc -l)" $((rss / 1024)) "$(echo "$ms / $s" | bc -l)"
done
echo "(vs mysql: the mysql client's time divided by magsync's; above 1.00 magsync is faster)"
