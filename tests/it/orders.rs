//! The orders flow against MariaDB with the osCommerce 2.3.3 schema.

use crate::util::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

const CANCEL_MAP: &str = "[shops.s1.map.order_status]\n\"Anulowane\" = \"cancelled\"\n";

/// Reserved quantity per good code, as the Magazyn holds it.
fn reserved(dir: &Dir) -> BTreeMap<String, Decimal> {
    magazyn_rows(
        dir,
        "SELECT g.code, CAST(s.reserved AS VARCHAR(40)) FROM stock s JOIN goods g ON g.id = s.good_id",
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].parse::<Decimal>().unwrap()))
    .filter(|(_, q)| !q.is_zero())
    .collect()
}

/// What the reservations should be: the lines of every loaded order still
/// open (Oczekujące, W realizacji: the stock statuses 1 and 2; 3, Wysłane,
/// is realized by default), less the ones since closed.
fn expected_reserved(data: &ShopData, closed: &[i64]) -> BTreeMap<String, Decimal> {
    reserved_by(data, |o| {
        [1, 2].contains(&o.status) && !closed.contains(&o.id)
    })
}

/// The quantities per good of the orders `open` says reserve.
fn reserved_by(
    data: &ShopData,
    open: impl Fn(&magsync::demo::Order) -> bool,
) -> BTreeMap<String, Decimal> {
    let mut m = BTreeMap::new();
    for o in data.orders.iter().filter(|o| open(o)) {
        for l in &o.lines {
            *m.entry(l.product.model.clone()).or_insert(Decimal::ZERO) += Decimal::from(l.quantity);
        }
    }
    m
}

#[test]
fn reservations_follow_the_open_orders_through_history_and_delivery() {
    let data = ShopData::new(40, 20, 200, 33);
    // No line for Wysłane: the install's stock status 3 (Delivered, in
    // whatever language) is realized by default.
    let Some((db, dir)) = mariadb_site("reservations", &data, |url| {
        config_with(url, "csv", CANCEL_MAP)
    }) else {
        return;
    };
    magazyn_goods(&dir, &data.products);
    // Reserved: the lines of orders still open (Oczekujące, W realizacji).
    let open = |delivered: &[i64]| {
        reserved_by(&data, |o| {
            [1, 2].contains(&o.status) && !delivered.contains(&o.id)
        })
    };
    assert!(
        data.orders.iter().any(|o| o.status == 3),
        "history has deliveries"
    );

    // A first run over the shop's history reserves only for open orders.
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    assert_eq!(reserved(&dir), open(&[]));

    // An open order delivered in the admin releases its goods, once.
    let o = data.orders.iter().find(|o| o.status == 1).unwrap();
    db.exec(&format!(
        "UPDATE orders SET orders_status = 3, last_modified = NOW() WHERE orders_id = {}",
        o.id
    ));
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"])
        .ok();
    assert_eq!(reserved(&dir), open(&[o.id]));
    let status = magazyn_rows(
        &dir,
        &format!("SELECT status FROM orders WHERE number = 'S1/{}'", o.id),
    );
    assert_eq!(status[0][0], "realized");
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM goods_issues"),
        0,
        "goods issues are opt-in"
    );
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders", "--full"])
        .ok();
    assert_eq!(
        reserved(&dir),
        open(&[o.id]),
        "a full re-read changes nothing"
    );
}

#[test]
fn every_public_order_lands_once_with_its_lines_and_totals() {
    let data = ShopData::new(80, 30, 300, 21);
    let Some((db, dir)) = mariadb_site("orders", &data, |url| config_with(url, "csv", CANCEL_MAP))
    else {
        return;
    };
    magazyn_goods(&dir, &data.products);

    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"]);
    run.ok();
    let public: Vec<_> = data.orders.iter().filter(|o| o.status != 6).collect();
    assert!(
        public.len() < data.orders.len(),
        "the generator makes Preparing orders"
    );
    assert!(data.orders.iter().any(|o| o.currency == "EUR"));
    let counts = run.load_counts_of("orders");
    assert_eq!(
        (counts.inserted, counts.rejected),
        (public.len() as u64, 0),
        "{}",
        run.stdout
    );
    assert_orders_once(&dir, public.len() as i64);

    let status_name = |id: i64| {
        magsync::demo::STATUSES
            .iter()
            .find(|s| s.0 == id)
            .unwrap()
            .1
    };
    for o in &data.orders {
        let number = format!("S1/{}", o.id);
        let rows = magazyn_rows(
            &dir,
            &format!(
                "SELECT id, CAST(total_gross AS VARCHAR(40)), description, currency, status, confirmed_number FROM orders WHERE number = '{number}'"
            ),
        );
        if o.status == 6 {
            assert!(
                rows.is_empty(),
                "{number} is Preparing and must not be loaded"
            );
            continue;
        }
        assert_eq!(rows.len(), 1, "{number}");
        let r = &rows[0];
        let gross: Decimal = r[1].parse().unwrap();
        assert_eq!(
            gross,
            o.total_in_currency(),
            "{number}: Magazyn against what was paid ({})",
            o.currency
        );
        let title = o.shipping_title.trim_end_matches(':');
        assert!(
            r[2].contains(&o.payment)
                && r[2].contains(title)
                && r[2].contains(status_name(o.status)),
            "{number}: {}",
            r[2]
        );
        assert_eq!(r[3], o.currency);
        // Złoty per unit of the order's currency (the shop: 0.23 EUR per PLN).
        let rate: Decimal = magazyn_rows(
            &dir,
            &format!(
                "SELECT CAST(currency_rate AS VARCHAR(40)) FROM orders WHERE number = '{number}'"
            ),
        )[0][0]
            .parse()
            .unwrap();
        let want = if o.currency == "EUR" { "4.347826" } else { "1" };
        assert_eq!(rate, want.parse::<Decimal>().unwrap(), "{number}");
        assert_eq!(
            r[4],
            match o.status {
                5 => "cancelled",
                3 => "realized", // the stock status Delivered, by default
                s => status_name(s),
            }
        );
        assert_eq!(r[5], o.id.to_string());
        let mut lines = magazyn_rows(
            &dir,
            &format!(
                "SELECT line_no, kind, name, code, CAST(vat_rate AS VARCHAR(40)) FROM order_lines WHERE order_id = {} ORDER BY line_no",
                r[0]
            ),
        );
        // The grosz the shop rounded differently (several rates, another
        // currency) stands on a 0 % line just before the delivery.
        if let Some(i) = lines.iter().position(|l| l[1] == "rounding") {
            assert_eq!(i, lines.len() - 2, "{number}: {lines:?}");
            assert!(lines[i][4].parse::<Decimal>().unwrap().is_zero());
            lines.remove(i);
        }
        assert_eq!(
            lines.len(),
            o.lines.len() + 1,
            "{number}: product lines + 1 delivery line"
        );
        let last = lines.last().unwrap();
        assert_eq!(
            (last[1].as_str(), last[2].as_str(), last[3].as_str()),
            ("shipping", title, "TRANSPORT"),
            "{number}"
        );
        for (l, want) in lines.iter().zip(&o.lines) {
            assert_eq!(l[1], "good");
            assert_eq!(l[3], want.product.model);
            assert!(l[2].starts_with(&want.product.name_pl), "{}", l[2]);
            for (opt, val, _) in &want.attributes {
                assert!(
                    l[2].contains(&format!("{opt}: {val}")),
                    "{number}: {} lacks {opt}: {val}",
                    l[2]
                );
            }
        }
    }
    assert_eq!(reserved(&dir), expected_reserved(&data, &[]));

    // Everything again: nothing new, nothing changed, reservations as they were.
    let lines_before = magazyn_count(&dir, "SELECT COUNT(*) FROM order_lines");
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders", "--full"]);
    run.ok();
    let c = run.load_counts_of("orders");
    assert_eq!(
        (c.inserted, c.updated, c.unchanged),
        (0, 0, public.len() as u64)
    );
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM order_lines"),
        lines_before
    );
    assert_eq!(reserved(&dir), expected_reserved(&data, &[]));

    // The shop moves one order on and cancels another, as admin/orders.php does.
    let moved = public.iter().find(|o| o.status == 1).unwrap().id;
    let cancelled = public.iter().find(|o| o.status == 2).unwrap().id;
    db.exec(&format!(
        "UPDATE orders SET orders_status = 3, last_modified = NOW() WHERE orders_id = {moved};
         UPDATE orders SET orders_status = 5, last_modified = NOW() WHERE orders_id = {cancelled};"
    ));
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    run.ok();
    let c = run.load_counts_of("orders");
    assert_eq!((c.inserted, c.updated), (0, 2), "{}", run.stdout);
    let status = |id: i64| {
        magazyn_rows(
            &dir,
            &format!("SELECT status, reserved FROM orders WHERE number = 'S1/{id}'"),
        )[0]
        .clone()
    };
    assert_eq!(
        status(moved),
        vec!["realized".to_string(), "0".to_string()],
        "Wysłane is the stock status 3: realized"
    );
    assert_eq!(
        status(cancelled),
        vec!["cancelled".to_string(), "0".to_string()]
    );
    assert_eq!(
        reserved(&dir),
        expected_reserved(&data, &[cancelled, moved]),
        "the delivered and the cancelled order's reservations are released, once"
    );
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM order_lines"),
        lines_before
    );

    // A rerun changes nothing; the released reservation stays released.
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders", "--full"])
        .ok();
    assert_eq!(
        reserved(&dir),
        expected_reserved(&data, &[cancelled, moved])
    );

    // A Preparing order whose payment completed arrives now.
    let preparing = data.orders.iter().find(|o| o.status == 6).unwrap().id;
    db.exec(&format!(
        "UPDATE orders SET orders_status = 2, last_modified = NOW() WHERE orders_id = {preparing}"
    ));
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    run.ok();
    assert_eq!(run.load_counts_of("orders").inserted, 1, "{}", run.stdout);
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM orders"),
        public.len() as i64 + 1
    );
    check_all_batches(&dir);
}

#[test]
fn orders_as_nested_xml_validate_and_load() {
    let data = ShopData::new(20, 10, 40, 3);
    let dir = sqlite_site(&data, |url| config(url, "xml"));
    magazyn_goods(&dir, &data.products[..8]);
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    run.ok();
    let public = data.orders.iter().filter(|o| o.status != 6).count() as i64;
    assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM orders"), public);
    // Lines of the two unknown products became one-off lines, reported.
    let one_off = magazyn_count(
        &dir,
        "SELECT COUNT(*) FROM order_lines WHERE kind = 'one-off'",
    );
    assert!(one_off > 0);
    assert!(run.stdout.contains("one_off_line"), "{}", run.stdout);
    let xsd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/staging");
    for (sub, file) in [("outbox", "shop_orders"), ("work", "orders")] {
        let b = dir.batch_of(sub, "orders");
        let xml = b.join(format!("data/{file}.xml"));
        let text = std::fs::read_to_string(&xml).unwrap();
        assert!(text.contains("<line>"), "lines are nested in {file}.xml");
        assert!(
            !b.join(format!("data/{}_lines.xml", file.trim_end_matches('s')))
                .exists()
        );
        xmllint(&xsd.join(format!("{file}.xsd")), &xml);
    }
    check_all_batches(&dir);
}

/// `xmllint --schema` where installed (required in CI).
pub fn xmllint(xsd: &std::path::Path, xml: &std::path::Path) {
    match std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd)
        .arg(xml)
        .output()
    {
        Ok(o) => assert!(
            o.status.success(),
            "{}: {}",
            xml.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) if std::env::var_os("MAGSYNC_REQUIRE_XMLLINT").is_none() => {
            eprintln!("xmllint not installed ({e}); XSD check skipped")
        }
        Err(e) => panic!("xmllint required: {e}"),
    }
}

#[test]
fn a_code_the_magazyn_has_as_a_barcode_finds_its_good() {
    let data = ShopData::new(10, 6, 30, 8);
    let dir = sqlite_site(&data, |url| config_with(url, "csv", ""));
    magazyn_goods(&dir, &data.products);
    // The Magazyn knows the first product by a code of its own, the shop's
    // model as one of its barcodes; the codes of the rest are read by list.
    let model = &data.products[0].model;
    let id = magazyn_count(
        &dir,
        &format!("SELECT id FROM goods WHERE code = '{model}'"),
    );
    magazyn_exec(
        &dir,
        &format!("UPDATE goods SET code = 'MAG-1' WHERE id = {id}"),
    );
    magazyn_exec(
        &dir,
        &format!("INSERT INTO good_barcodes (good_id, barcode) VALUES ({id}, '{model}')"),
    );
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let lines = |cond: &str| {
        magazyn_count(
            &dir,
            &format!("SELECT COUNT(*) FROM order_lines WHERE {cond}"),
        )
    };
    let sold: usize = data
        .orders
        .iter()
        .filter(|o| o.status != 6)
        .map(|o| o.lines.iter().filter(|l| &l.product.model == model).count())
        .sum();
    assert!(sold > 0);
    assert_eq!(
        lines(&format!(
            "code = '{model}' AND good_id = {id} AND kind = 'good'"
        )),
        sold as i64
    );
    assert_eq!(
        lines("kind = 'one-off' OR (kind = 'good' AND good_id IS NULL)"),
        0
    );
    assert_eq!(
        lines("kind = 'good'"),
        data.orders
            .iter()
            .filter(|o| o.status != 6)
            .map(|o| o.lines.len() as i64)
            .sum::<i64>()
    );
}

#[test]
fn unknown_goods_can_reject_the_order_instead() {
    let data = ShopData::new(10, 6, 30, 8);
    let extra = "[shops.s1.orders]\nunknown_goods = \"reject\"\n";
    let dir = sqlite_site(&data, |url| config_with(url, "csv", extra));
    magazyn_goods(&dir, &data.products[1..]);
    let missing = &data.products[0].model;
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let with_missing: Vec<_> = data
        .orders
        .iter()
        .filter(|o| o.status != 6 && o.lines.iter().any(|l| &l.product.model == missing))
        .collect();
    assert!(!with_missing.is_empty());
    let c = run.load_counts_of("orders");
    assert_eq!(c.rejected, with_missing.len() as u64);
    for o in with_missing {
        assert_eq!(
            magazyn_count(
                &dir,
                &format!("SELECT COUNT(*) FROM orders WHERE number = 'S1/{}'", o.id)
            ),
            0
        );
        assert!(
            run.stdout.contains(&format!("rejected S1/{}", o.id)),
            "{}",
            run.stdout
        );
    }
    let receipt = dir.batches("receipts").pop().unwrap();
    let errors = std::fs::read_to_string(receipt.join("data/rejects/orders.errors.csv")).unwrap();
    assert!(
        errors.contains("unknown_good") && errors.contains(missing.as_str()),
        "{errors}"
    );
    check_all_batches(&dir);
}

#[test]
fn discover_writes_a_value_map_skeleton_that_parses() {
    let data = ShopData::new(10, 6, 40, 4);
    let dir = sqlite_site(&data, |url| config(url, "csv"));
    let run = dir.magsync(&["discover", "--shop", "s1"]);
    run.ok();
    let map: toml::Value =
        toml::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.stdout));
    let m = &map["shops"]["s1"]["map"];
    for (title, _) in magsync::demo::SHIPPING {
        let t = title.trim_end_matches(':');
        if data.orders.iter().any(|o| o.shipping_title == *title) {
            assert_eq!(
                m["shipping"][t].as_str(),
                Some("TRANSPORT"),
                "{}",
                run.stdout
            );
        }
    }
    assert_eq!(m["order_status"]["Anulowane"].as_str(), Some("Anulowane"));
    assert_eq!(m["tax_class"]["VAT 8%"].as_str(), Some("8"));
    assert!(
        run.stdout
            .contains("not public: such orders are not exported")
    );
    // Pasted into the configuration, it is accepted as it is.
    let cfg = std::fs::read_to_string(dir.join("magsync.toml")).unwrap() + &run.stdout;
    dir.write("magsync.toml", &cfg);
    dir.magsync(&["discover", "--shop", "s1"]).ok();
}

/// `magsync index`: the two watermark indexes are added only on request,
/// the incremental extract finds changed orders through them, and `--drop`
/// removes exactly them (the shop's own indexes stay).
#[test]
fn the_opt_in_watermark_indexes_come_and_go_on_request() {
    let data = ShopData::new(20, 10, 60, 23);
    let Some((db, dir)) = mariadb_site("index", &data, |url| config_with(url, "csv", CANCEL_MAP))
    else {
        return;
    };
    magazyn_goods(&dir, &data.products);
    let indexes = || -> Vec<String> {
        rt().block_on(async {
            use sqlx::{Connection, Row};
            let mut c = sqlx::mysql::MySqlConnection::connect(&db.url).await.unwrap();
            sqlx::query("SELECT DISTINCT CAST(index_name AS CHAR) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'orders' ORDER BY 1")
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect()
        })
    };
    let own = indexes();
    assert!(own.iter().all(|i| !i.starts_with("magsync_")), "{own:?}");
    let check = dir.magsync(&["check", "--shop", "s1"]);
    assert!(
        check.stdout.contains("`magsync index --shop s1` adds"),
        "{}",
        check.stdout
    );

    let run = dir.magsync(&["index", "--shop", "s1"]);
    run.ok();
    let with = indexes();
    assert_eq!(with.len(), own.len() + 2, "{with:?}");
    assert!(with.contains(&"magsync_orders_last_modified".to_string()));
    assert!(with.contains(&"magsync_orders_date_purchased".to_string()));
    assert!(
        run.stdout
            .contains("magsync_orders_last_modified on orders"),
        "{}",
        run.stdout
    );
    dir.magsync(&["index", "--shop", "s1"]).ok(); // again: nothing new
    assert_eq!(indexes(), with);
    assert!(
        dir.magsync(&["check", "--shop", "s1"])
            .stdout
            .contains("added by `magsync index`")
    );

    // The incremental extract is the same with the indexes: a status change
    // (last_modified) is found.
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    let public = data.orders.iter().filter(|o| o.status != 6).count() as i64;
    assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM orders"), public);
    let changed = data.orders.iter().find(|o| o.status == 1).unwrap().id;
    db.exec(&format!(
        "UPDATE orders SET orders_status = 3, last_modified = NOW() WHERE orders_id = {changed}"
    ));
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    assert_eq!(run.load_counts_of("orders").updated, 1, "{}", run.stdout);

    let run = dir.magsync(&["index", "--shop", "s1", "--drop"]);
    run.ok();
    assert!(run.stdout.contains("no magsync indexes"), "{}", run.stdout);
    assert_eq!(indexes(), own, "exactly magsync's indexes removed");
}

#[test]
fn guests_comments_and_discounts_reach_the_magazyn_as_the_shop_has_them() {
    let data = ShopData::new(20, 10, 40, 8);
    let extra = "[shops.s1.orders]\ndescription = \"{status}; {comment}\"\n[shops.s1.map.fees]\not_coupon = \"RABAT-WIOSNA\"\n";
    let Some((db, dir)) = mariadb_site("guests", &data, |url| config_with(url, "csv", extra))
    else {
        return;
    };
    let public: Vec<_> = data.orders.iter().filter(|o| o.status != 6).collect();
    // Two guests ("purchase without account" add-ons: customers_id 0, the
    // buyer only on the order), a comment at checkout, and a coupon of
    // 10.00 net on an order of one tax rate, which the shop took off the
    // total with its VAT.
    let (g1, g2, commented, long) = (public[0], public[1], public[2], public[3]);
    // A comment longer than a Firebird load packs with other orders (its
    // order goes alone, a parameter per value).
    let long_comment = "Zażółć gęślą jaźń. ".repeat(1000);
    let one_rate = public
        .iter()
        .find(|o| o.lines.iter().all(|l| l.product.rate == Decimal::from(23)))
        .expect("an order of 23 % goods only");
    db.exec(&format!(
        "UPDATE orders SET customers_id = 0, billing_name = 'Gość Pierwszy', billing_company = '' WHERE orders_id = {};
         UPDATE orders SET customers_id = 0, billing_name = 'Gość Drugi', billing_company = '' WHERE orders_id = {};
         UPDATE orders_status_history SET comments = 'Proszę o fakturę VAT' WHERE orders_id = {};
         UPDATE orders_status_history SET comments = '{long_comment}' WHERE orders_id = {};
         INSERT INTO orders_total (orders_id, title, text, value, class, sort_order) VALUES ({id}, 'Kupon WIOSNA:', '-10,00 zł', -10.0000, 'ot_coupon', 3);
         UPDATE orders_total SET value = value - 12.3 WHERE orders_id = {id} AND class = 'ot_total';",
        g1.id,
        g2.id,
        commented.id,
        long.id,
        id = one_rate.id
    ));
    magazyn_goods(&dir, &data.products);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();

    for (o, name) in [(g1, "Gość Pierwszy"), (g2, "Gość Drugi")] {
        let r = magazyn_rows(
            &dir,
            &format!(
                "SELECT COALESCE(CAST(customer_id AS VARCHAR(20)), 'none'), buyer_name FROM orders WHERE number = 'S1/{}'",
                o.id
            ),
        );
        assert_eq!(r[0], ["none", name], "guest order {}", o.id);
    }
    assert_eq!(
        magazyn_count(&dir, "SELECT COUNT(*) FROM customers WHERE code = 'S1-0'"),
        0
    );

    let r = magazyn_rows(
        &dir,
        &format!(
            "SELECT customer_comment, description FROM orders WHERE number = 'S1/{}'",
            commented.id
        ),
    );
    assert_eq!(r[0][0], "Proszę o fakturę VAT");
    assert!(r[0][1].ends_with("; Proszę o fakturę VAT"), "{}", r[0][1]);
    let r = magazyn_rows(
        &dir,
        &format!(
            "SELECT customer_comment, description FROM orders WHERE number = 'S1/{}'",
            long.id
        ),
    );
    assert_eq!(r[0][0], long_comment.trim_end(), "order {}", long.id);
    assert!(
        r[0][1].ends_with(long_comment.trim_end()),
        "order {}",
        long.id
    );

    let number = format!("S1/{}", one_rate.id);
    let total = magazyn_rows(
        &dir,
        &format!(
            "SELECT id, CAST(total_gross AS VARCHAR(40)) FROM orders WHERE number = '{number}'"
        ),
    );
    let paid = one_rate.total_in_currency() - Decimal::new(1230, 2) * one_rate.currency_value;
    assert_eq!(
        total[0][1].parse::<Decimal>().unwrap(),
        magsync::money::round2(paid),
        "{number}"
    );
    let lines = magazyn_rows(
        &dir,
        &format!(
            "SELECT kind, code, CAST(total_net AS VARCHAR(40)), CAST(vat_rate AS VARCHAR(40)) FROM order_lines WHERE order_id = {} ORDER BY line_no",
            total[0][0]
        ),
    );
    let kinds: Vec<&str> = lines.iter().map(|l| l[0].as_str()).collect();
    assert_eq!(kinds.last(), Some(&"shipping"), "{lines:?}");
    let discount = lines
        .iter()
        .find(|l| l[0] == "discount")
        .expect("a discount line");
    assert_eq!(discount[1], "RABAT-WIOSNA");
    assert_eq!(
        discount[2].parse::<Decimal>().unwrap(),
        magsync::money::round2(Decimal::from(-10) * one_rate.currency_value)
    );
    assert_eq!(discount[3].parse::<Decimal>().unwrap(), Decimal::from(23));
}

#[test]
fn an_order_deleted_in_the_shop_is_marked_released_and_reported_once() {
    let data = ShopData::new(20, 10, 60, 12);
    let Some((db, dir)) = mariadb_site("deleted", &data, |url| config_with(url, "csv", CANCEL_MAP))
    else {
        return;
    };
    magazyn_goods(&dir, &data.products);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    assert_eq!(reserved(&dir), expected_reserved(&data, &[]));
    // The admin deletes an open order (admin/orders.php removes its rows).
    let o = data.orders.iter().find(|o| o.status == 1).unwrap();
    db.exec(&format!(
        "DELETE FROM orders_products_attributes WHERE orders_id = {id};
         DELETE FROM orders_products WHERE orders_id = {id};
         DELETE FROM orders_status_history WHERE orders_id = {id};
         DELETE FROM orders_total WHERE orders_id = {id};
         DELETE FROM orders WHERE orders_id = {id};",
        id = o.id
    ));
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    run.ok();
    let number = format!("S1/{}", o.id);
    assert!(
        run.stdout.contains(&number) && run.stdout.contains("deleted_in_shop"),
        "{}",
        run.stdout
    );
    let status = magazyn_rows(
        &dir,
        &format!("SELECT status FROM orders WHERE number = '{number}'"),
    );
    assert_eq!(status[0][0], "deleted", "kept, marked");
    assert_eq!(reserved(&dir), expected_reserved(&data, &[o.id]));
    // Once: the next run has nothing more to say about it.
    let again = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    again.ok();
    assert!(
        !again.stdout.contains("deleted_in_shop"),
        "{}",
        again.stdout
    );
    assert_eq!(reserved(&dir), expected_reserved(&data, &[o.id]));
    // What the load compared is recorded: the shop's ids up to the
    // signpost, so the next load reads only the Magazyn's orders added since.
    let signpost = data
        .orders
        .iter()
        .map(|x| x.id)
        .filter(|&i| i != o.id)
        .max();
    let check = magazyn_rows(
        &dir,
        "SELECT covered_to, ids_count FROM magsync_checks WHERE shop = 's1' AND entity = 'order'",
    );
    assert_eq!(
        check,
        [[
            signpost.unwrap().to_string(),
            (data.orders.len() - 1).to_string()
        ]]
    );
    // An order another program added to the Magazyn under the shop order
    // gone: the next load does not read what the last one compared, but it
    // reads this one and marks it.
    magazyn_exec(
        &dir,
        &format!(
            "INSERT INTO orders (number, confirmed_number, shop, status, created_at, updated_at) \
             VALUES ('S1/{id}-copy', '{id}', 's1', 'new', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')",
            id = o.id
        ),
    );
    // And one marked deleted under a number above the shop's: it counts
    // for the highest number loaded, which is kept with the comparison.
    let high = signpost.unwrap() + 1000;
    magazyn_exec(
        &dir,
        &format!(
            "INSERT INTO orders (number, confirmed_number, shop, status, created_at, updated_at) \
             VALUES ('S1/{high}', '{high}', 's1', 'deleted', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')"
        ),
    );
    let third = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    third.ok();
    let loaded_max = rt().block_on(async {
        let mut m = open_magazyn(dir.path());
        let n = m.orders_loaded_max("s1").unwrap();
        m.close();
        n
    });
    assert_eq!(loaded_max, Some(high));
    let copy = format!("S1/{}-copy", o.id);
    assert!(
        third.stdout.contains(&copy) && third.stdout.contains("deleted_in_shop"),
        "{}",
        third.stdout
    );
    let status = magazyn_rows(
        &dir,
        &format!("SELECT status FROM orders WHERE number = '{copy}'"),
    );
    assert_eq!(status[0][0], "deleted");
}

#[test]
fn the_buyers_nip_leaves_the_company_name_and_a_bad_one_is_reported() {
    let data = ShopData::new(20, 10, 30, 6);
    let Some((db, dir)) = mariadb_site("order_nip", &data, |url| config_with(url, "csv", ""))
    else {
        return;
    };
    let public: Vec<_> = data.orders.iter().filter(|o| o.status != 6).collect();
    let (good, bad, person) = (public[0], public[1], public[2]);
    db.exec(&format!(
        "UPDATE orders SET billing_company = 'Hurtownia Żak Sp. z o.o., NIP 123-456-32-18',
                delivery_company = 'Hurtownia Żak Sp. z o.o., NIP 123-456-32-18' WHERE orders_id = {};
         UPDATE orders SET billing_company = 'Firma Zła (PL1234563219)', billing_country = 'Poland' WHERE orders_id = {};
         UPDATE orders SET billing_company = '' WHERE orders_id = {};",
        good.id, bad.id, person.id
    ));
    magazyn_goods(&dir, &data.products);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    let buyer = |id: i64| {
        magazyn_rows(
            &dir,
            &format!(
                "SELECT buyer_name, COALESCE(buyer_nip, ''), CAST(buyer_is_company AS VARCHAR(2)), recipient_name FROM orders WHERE number = 'S1/{id}'"
            ),
        )
        .remove(0)
    };
    let g = buyer(good.id);
    assert_eq!(g[..3], ["Hurtownia Żak Sp. z o.o.", "1234563218", "1"]);
    assert!(
        g[3].starts_with("Hurtownia Żak Sp. z o.o., ") && !g[3].contains("NIP"),
        "{}",
        g[3]
    );
    let b = buyer(bad.id);
    assert_eq!(
        b[..3],
        ["Firma Zła", "1234563219", "1"],
        "loaded as written"
    );
    let p = buyer(person.id);
    assert_eq!(p[1..3], ["", "0"], "a person: a receipt, no NIP");
    let work = dir
        .batches("work")
        .into_iter()
        .find(|b| b.to_string_lossy().contains(".orders.") && b.join("data/warnings.csv").exists())
        .expect("the orders transform batch");
    let warnings = std::fs::read_to_string(work.join("data/warnings.csv")).unwrap();
    let bad_ones: Vec<&str> = warnings
        .lines()
        .filter(|l| l.contains("nip_checksum"))
        .collect();
    assert_eq!(bad_ones.len(), 1, "{warnings}");
    assert!(
        bad_ones[0].contains(&format!("S1/{}", bad.id))
            || bad_ones[0].contains(&bad.id.to_string()),
        "{}",
        bad_ones[0]
    );

    // nip_source = "none": no NIP, names as written.
    let dir = Dir::with_config(&config_with(&db.url, "csv", "nip_source = \"none\""));
    magazyn_goods(&dir, &data.products);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    let g = magazyn_rows(
        &dir,
        &format!(
            "SELECT buyer_name, COALESCE(buyer_nip, '') FROM orders WHERE number = 'S1/{}'",
            good.id
        ),
    );
    assert_eq!(g[0], ["Hurtownia Żak Sp. z o.o., NIP 123-456-32-18", ""]);
}

/// Stock quantity per good code in warehouse MAG, as the Magazyn holds it.
fn stock(dir: &Dir) -> BTreeMap<String, Decimal> {
    magazyn_rows(
        dir,
        "SELECT g.code, CAST(s.quantity AS VARCHAR(40)) FROM stock s JOIN goods g ON g.id = s.good_id",
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].parse::<Decimal>().unwrap()))
    .collect()
}

#[test]
fn goods_issues_on_request_follow_delivery_and_leave_the_history_alone() {
    let data = ShopData::new(30, 12, 80, 17);
    let cfg =
        format!("{CANCEL_MAP}\"Wysłane\" = \"realized\"\n[shops.s1.orders]\ngoods_issues = true\n");
    let Some((db, dir)) = mariadb_site("goods_issues", &data, |url| config_with(url, "csv", &cfg))
    else {
        return;
    };
    let start = Decimal::from(100);
    magazyn_stocked(dir.path(), &data.products, &[], |_| (None, Some(start)));
    let issued = |dir: &Dir| magazyn_count(dir, "SELECT COUNT(*) FROM goods_issues");
    let delivered_before = data.orders.iter().filter(|o| o.status == 3).count();
    assert!(delivered_before > 0, "history has deliveries");

    // The first load brings the history: delivered orders issue nothing.
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"]);
    run.ok();
    assert_eq!(issued(&dir), 0);
    assert!(stock(&dir).values().all(|q| *q == start));
    assert!(
        run.stdout.contains("history_not_issued")
            && run
                .stdout
                .contains(&format!("{delivered_before} orders already realized")),
        "{}",
        run.stdout
    );

    // An open order delivered: its goods leave the warehouse, once.
    let o = data.orders.iter().find(|o| o.status == 1).unwrap();
    let mut expected: BTreeMap<String, Decimal> = data
        .products
        .iter()
        .map(|p| (p.model.clone(), start))
        .collect();
    let take = |expected: &mut BTreeMap<String, Decimal>, sign: i64| {
        for l in &o.lines {
            *expected.get_mut(&l.product.model).unwrap() -= Decimal::from(l.quantity * sign);
        }
    };
    let set_status = |s: i64| {
        db.exec(&format!(
            "UPDATE orders SET orders_status = {s}, last_modified = NOW() WHERE orders_id = {}",
            o.id
        ))
    };
    set_status(3);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"])
        .ok();
    take(&mut expected, 1);
    assert_eq!(stock(&dir), expected);
    assert_eq!(issued(&dir), o.lines.len() as i64);
    assert_eq!(
        reserved(&dir),
        reserved_by(&data, |x| [1, 2].contains(&x.status) && x.id != o.id)
    );
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders", "--full"])
        .ok();
    assert_eq!(stock(&dir), expected, "a full re-read issues nothing more");

    // Back to Processing (a mistaken Delivered): the issue is reversed by
    // rows of its own, and the order reserves again.
    set_status(2);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"])
        .ok();
    take(&mut expected, -1);
    assert_eq!(stock(&dir), expected);
    assert_eq!(issued(&dir), 2 * o.lines.len() as i64, "nothing deleted");
    assert_eq!(
        reserved(&dir),
        reserved_by(&data, |x| [1, 2].contains(&x.status))
    );

    // Delivered again, then cancelled: the goods that left stay issued.
    set_status(3);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"])
        .ok();
    set_status(5);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"])
        .ok();
    take(&mut expected, 1);
    assert_eq!(stock(&dir), expected);
    assert_eq!(issued(&dir), 3 * o.lines.len() as i64);
}

#[test]
fn an_incremental_extract_reads_the_changed_orders_by_key_as_a_full_one_reads_them() {
    let data = ShopData::new(40, 20, 300, 33);
    let Some((db, dir)) = mariadb_site("by_key", &data, |url| config_with(url, "csv", CANCEL_MAP))
    else {
        return;
    };
    magazyn_goods(&dir, &data.products);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    // Scattered changes (listed as keys, 6 in a statement of 8 markers) and
    // a run of 20 consecutive orders (read as a key range of its own).
    let ids: Vec<i64> = data.orders.iter().map(|o| o.id).collect();
    let mut changed: Vec<i64> = [3, 41, 42, 97, 150, 233].iter().map(|&i| ids[i]).collect();
    changed.extend(&ids[250..270]);
    changed.sort();
    db.exec(&format!(
        "UPDATE orders SET orders_status = 3, last_modified = NOW() WHERE orders_id IN ({})",
        changed
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let rows = |dir: &Dir, full: bool| -> (Vec<csv::StringRecord>, Vec<csv::StringRecord>) {
        let mut args = vec!["extract", "--shop", "s1", "--flow", "orders"];
        if full {
            args.push("--full");
        }
        dir.magsync(&args).ok();
        let batch = dir.batches("outbox").pop().unwrap();
        let read = |f: &str| -> Vec<csv::StringRecord> {
            csv::Reader::from_path(batch.join("data").join(f))
                .unwrap()
                .records()
                .map(|r| r.unwrap())
                .filter(|r| changed.contains(&r[0].parse::<i64>().unwrap()))
                .collect()
        };
        (read("shop_orders.csv"), read("shop_order_lines.csv"))
    };
    let (orders, lines) = rows(&dir, false);
    let mut got: Vec<i64> = orders.iter().map(|r| r[0].parse().unwrap()).collect();
    got.sort();
    assert_eq!(got, changed, "each changed order once");
    let (full_orders, full_lines) = rows(&dir, true);
    assert_eq!(orders, full_orders, "headers with their totals and comment");
    assert_eq!(lines, full_lines, "lines with their attributes");
    assert!(lines.len() >= changed.len());
}
