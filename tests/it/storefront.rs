//! Against the real osCommerce 2.3.3 storefront (`../shared/storefront`):
//! customers registered and orders placed through the shop's own PHP
//! checkout, statuses changed in its admin, prices read off its product
//! pages. Every expected value comes from what osCommerce itself wrote or
//! shows, never from a formula of ours; the generator is checked against
//! the same checkout.
//!
//! Each test starts its own shop (`php -S` serves one request at a time) and
//! a fresh Magazyn; without PHP they skip, saying why, unless
//! `MAGSYNC_REQUIRE_STOREFRONT=1` (CI).

use crate::util::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} is not a number: {e}"))
}

/// Carts used throughout: two lines; three of one product; a product with
/// attributes (one of them priced) and two of an expensive one.
const CARTS: [&[(i64, i64)]; 3] = [&[(12, 1), (25, 1)], &[(7, 3)], &[(1, 1), (28, 2)]];

/// A Magazyn order as the tests read it.
#[derive(Debug)]
struct MagOrder {
    total_net: Decimal,
    total_gross: Decimal,
    status: String,
    buyer_name: String,
    buyer_city: String,
    customer_code: String,
    lines: Vec<MagLine>,
}

#[derive(Debug)]
struct MagLine {
    kind: String,
    code: String,
    name: String,
    quantity: Decimal,
    unit_net: Decimal,
    unit_gross: Decimal,
    total_gross: Decimal,
    vat: Decimal,
}

fn mag_order(dir: &Dir, order: i64) -> MagOrder {
    let number = format!("S1/{order}");
    let rows = magazyn_rows(
        dir,
        &format!(
            "SELECT o.id, CAST(o.total_net AS VARCHAR(40)), CAST(o.total_gross AS VARCHAR(40)), o.status,
                    o.buyer_name, o.buyer_city, COALESCE(c.code, '')
             FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE o.number = '{number}'"
        ),
    );
    assert_eq!(rows.len(), 1, "Magazyn order {number}");
    let r = &rows[0];
    let lines = magazyn_rows(
        dir,
        &format!(
            "SELECT kind, COALESCE(code, ''), name, CAST(quantity AS VARCHAR(40)), CAST(unit_net AS VARCHAR(40)),
                    CAST(unit_gross AS VARCHAR(40)), CAST(total_gross AS VARCHAR(40)), CAST(vat_rate AS VARCHAR(40))
             FROM order_lines WHERE order_id = {} ORDER BY line_no",
            r[0]
        ),
    )
    .into_iter()
    .map(|l| MagLine {
        kind: l[0].clone(),
        code: l[1].clone(),
        name: l[2].clone(),
        quantity: d(&l[3]),
        unit_net: d(&l[4]),
        unit_gross: d(&l[5]),
        total_gross: d(&l[6]),
        vat: d(&l[7]),
    })
    .collect();
    MagOrder {
        total_net: d(&r[1]),
        total_gross: d(&r[2]),
        status: r[3].clone(),
        buyer_name: r[4].clone(),
        buyer_city: r[5].clone(),
        customer_code: r[6].clone(),
        lines,
    }
}

/// The shop's products `ids` as goods of the Magazyn, each priced
/// `net`/`gross` on `lists[0]` and `quantity` in stock; returns them.
fn stock_goods(
    sf: &Storefront,
    dir: &Dir,
    ids: &[i64],
    lists: &[&str],
    (net, gross): (&str, &str),
    quantity: i64,
) -> Vec<magsync::demo::Product> {
    let products = sf.products_of(ids);
    magazyn_stocked(dir.path(), &products, lists, |_| {
        (Some((d(net), d(gross))), Some(Decimal::from(quantity)))
    });
    products
}

/// `magsync undo` of the newest undo batch (the last push).
fn undo_last_push(dir: &Dir) {
    let undo = dir.batches("undo").pop().unwrap();
    dir.magsync(&["undo", undo.to_str().unwrap()]).ok();
}

/// A shop with both buyers registered, the Magazyn holding its products
/// (priced and stocked), and magsync configured for it.
fn shop_and_magazyn(test: &str, setup: ShopSetup, extra: &str) -> Option<(Storefront, Dir)> {
    let sf = storefront(test, setup)?;
    for b in &BUYERS {
        sf.register(b);
    }
    let dir = Dir::with_config(&sf.config(extra));
    magazyn_stocked(dir.path(), &sf.products(), &["Detal"], |p| {
        (Some((p.price, p.gross)), Some(Decimal::from(p.quantity)))
    });
    Some((sf, dir))
}

/// The orders of `CARTS` (buyer 1, then buyer 2 twice).
fn place_carts(sf: &Storefront) -> Vec<i64> {
    CARTS
        .iter()
        .enumerate()
        .map(|(i, cart)| sf.order(&BUYERS[i.min(1)], cart))
        .collect()
}

/// The order totals osCommerce wrote: (class, value) in sort order.
fn shop_totals(sf: &Storefront, order: i64) -> Vec<(String, Decimal)> {
    sf.rows(&format!(
        "SELECT class, value FROM orders_total WHERE orders_id = {order} ORDER BY sort_order, orders_total_id"
    ))
    .into_iter()
    .map(|r| (r[0].clone(), d(&r[1])))
    .collect()
}

/// Every Magazyn order is what the shop's customer paid, line by line as
/// the shop priced it, with the delivery last.
fn assert_orders_as_paid(sf: &Storefront, dir: &Dir, orders: &[i64], gross: bool) {
    for &o in orders {
        let m = mag_order(dir, o);
        assert_eq!(
            m.total_gross,
            sf.paid(o),
            "order {o}: Magazyn gross total against what was paid ({:?})",
            shop_totals(sf, o)
        );
        let shop_lines = sf.rows(&format!(
            "SELECT products_model, products_name, final_price, products_tax, products_quantity
             FROM orders_products WHERE orders_id = {o} ORDER BY orders_products_id"
        ));
        // Goods in shop order, then a line for every other total (fees,
        // discounts) and the rounding, the delivery last.
        let extras: Vec<(String, Decimal)> = shop_totals(sf, o)
            .into_iter()
            .filter(|(c, _)| {
                !["ot_subtotal", "ot_shipping", "ot_tax", "ot_total"].contains(&c.as_str())
            })
            .collect();
        let middle = &m.lines[shop_lines.len()..m.lines.len() - 1];
        let fees: Vec<&MagLine> = middle.iter().filter(|l| l.kind != "rounding").collect();
        assert_eq!(fees.len(), extras.len(), "order {o}: {m:?}");
        for (l, (class, value)) in fees.iter().zip(&extras) {
            let kind = if *value < Decimal::ZERO {
                "discount"
            } else {
                "service"
            };
            assert_eq!(l.kind, kind, "order {o} {class}");
            let shown = if gross { l.total_gross } else { l.unit_net };
            assert_eq!(shown, magsync::money::round2(*value), "order {o} {class}");
        }
        for (l, s) in m.lines.iter().zip(&shop_lines) {
            assert_eq!((l.kind.as_str(), l.code.as_str()), ("good", s[0].as_str()));
            assert!(l.name.starts_with(&s[1]), "{} / {}", l.name, s[1]);
            assert_eq!(l.quantity, d(&s[4]));
            assert_eq!(l.vat, d(&s[3]));
            // The unit price the shop showed in the cart (its own rounding).
            let final_price = d(&s[2]);
            if gross {
                let shown = magsync::money::gross_of_net(final_price, d(&s[3]), 2).unwrap();
                assert_eq!(l.unit_gross, shown, "order {o} {}", l.code);
                assert_eq!(l.total_gross, shown * l.quantity, "order {o} {}", l.code);
            } else {
                assert_eq!(
                    l.unit_net,
                    magsync::money::round2(final_price),
                    "order {o} {}",
                    l.code
                );
            }
        }
        let last = m.lines.last().unwrap();
        assert_eq!(
            (last.kind.as_str(), last.name.as_str()),
            ("shipping", "Flat Rate (Best Way)"),
            "order {o}"
        );
        let shipping = shop_totals(sf, o)
            .into_iter()
            .find(|t| t.0 == "ot_shipping")
            .unwrap()
            .1;
        let shown = if gross {
            last.unit_gross
        } else {
            last.unit_net
        };
        assert_eq!(
            shown,
            magsync::money::round2(shipping),
            "order {o} delivery"
        );
        assert!(m.total_net <= m.total_gross);
    }
}

#[test]
fn orders_of_a_gross_shop_reach_the_magazyn_as_paid() {
    let Some((sf, dir)) = shop_and_magazyn("gross_orders", ShopSetup::GROSS, "") else {
        return;
    };
    let orders = place_carts(&sf);
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"]);
    run.ok();
    assert_eq!(run.load_counts_of("orders").inserted, 3, "{}", run.stdout);
    assert_orders_as_paid(&sf, &dir, &orders, true);
    // The product with attributes carries them in its line name, as the
    // shop wrote them for this order.
    let attrs = sf.rows(&format!(
        "SELECT products_options, products_options_values FROM orders_products_attributes WHERE orders_id = {} ORDER BY orders_products_attributes_id",
        orders[2]
    ));
    assert_eq!(attrs.len(), 2);
    let name = &mag_order(&dir, orders[2]).lines[0].name;
    for a in &attrs {
        assert!(name.contains(&format!("{}: {}", a[0], a[1])), "{name}");
    }
    // What the customer wrote at checkout, and whether an invoice (a
    // company) or a receipt (a person) is due.
    for (&o, company) in orders.iter().zip(["1", "0", "0"]) {
        let comment = sf.rows(&format!(
            "SELECT comments FROM orders_status_history WHERE orders_id = {o} ORDER BY orders_status_history_id LIMIT 1"
        ));
        assert!(comment[0][0].contains("zażółć gęślą jaźń"), "{comment:?}");
        let m = magazyn_rows(
            &dir,
            &format!(
                "SELECT customer_comment, CAST(buyer_is_company AS VARCHAR(5)) FROM orders WHERE number = 'S1/{o}'"
            ),
        );
        assert_eq!(m[0], [comment[0][0].as_str(), company], "order {o}");
    }
}

#[test]
fn orders_of_a_net_shop_reach_the_magazyn_as_paid() {
    let Some((sf, dir)) = shop_and_magazyn("net_orders", ShopSetup::NET, "") else {
        return;
    };
    let orders = place_carts(&sf);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    assert_orders_as_paid(&sf, &dir, &orders, false);
}

/// The order-total modules in sort order (subtotal, shipping, tax, total):
/// the delivery's VAT is in `ot_tax`.
const SORT_ORDER: &str = "ot_subtotal.php;ot_shipping.php;ot_tax.php;ot_total.php";
/// As a fresh install has them (subtotal, tax, shipping, total): `ot_tax`
/// is written before the delivery's VAT is added, which reaches only `ot_total`.
const FRESH_INSTALL: &str = "ot_subtotal.php;ot_tax.php;ot_shipping.php;ot_total.php";

/// Flat delivery in tax class 1 with the order-total modules in `modules`:
/// every order as paid, the delivery at 23 % (5.00 net, 6.15 gross).
fn taxed_delivery(test: &str, setup: ShopSetup, modules: &str) {
    let Some((sf, dir)) = shop_and_magazyn(test, setup, "") else {
        return;
    };
    sf.configure(&[
        ("MODULE_SHIPPING_FLAT_TAX_CLASS", "1"),
        ("MODULE_ORDER_TOTAL_INSTALLED", modules),
    ]);
    let orders = place_carts(&sf);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    assert_orders_as_paid(&sf, &dir, &orders, setup.gross);
    for &o in &orders {
        let delivery = mag_order(&dir, o).lines.pop().unwrap();
        assert_eq!(delivery.vat, Decimal::from(23), "order {o}");
        assert_eq!(delivery.unit_net, d("5.00"), "order {o}");
        assert_eq!(delivery.unit_gross, d("6.15"), "order {o}");
    }
}

#[test]
fn taxed_delivery_with_the_totals_in_sort_order_gross_shop() {
    taxed_delivery("taxed_sort_gross", ShopSetup::GROSS, SORT_ORDER);
}

#[test]
fn taxed_delivery_with_the_totals_in_sort_order_net_shop() {
    taxed_delivery("taxed_sort_net", ShopSetup::NET, SORT_ORDER);
}

#[test]
fn taxed_delivery_with_the_totals_in_fresh_install_order_gross_shop() {
    taxed_delivery("taxed_fresh_gross", ShopSetup::GROSS, FRESH_INSTALL);
}

#[test]
fn taxed_delivery_with_the_totals_in_fresh_install_order_net_shop() {
    taxed_delivery("taxed_fresh_net", ShopSetup::NET, FRESH_INSTALL);
}

/// The core low order fee (5.00 in tax class 1 on orders under 50), as its
/// `install()` writes its settings, run between ot_tax and ot_shipping:
/// a service line at 23 % on the small orders, every order as paid.
fn low_order_fee(test: &str, setup: ShopSetup) {
    let Some((sf, dir)) = shop_and_magazyn(
        test,
        setup,
        "[shops.s1.map.fees]\not_loworderfee = \"OPL-MALE\"\n",
    ) else {
        return;
    };
    sf.install_low_order_fee("1");
    sf.configure(&[
        ("MODULE_SHIPPING_FLAT_TAX_CLASS", "1"),
        (
            "MODULE_ORDER_TOTAL_INSTALLED",
            "ot_subtotal.php;ot_tax.php;ot_loworderfee.php;ot_shipping.php;ot_total.php",
        ),
    ]);
    // Under 50 (a fee), over 50 (none), under 50 again.
    let orders = vec![
        sf.order(&BUYERS[0], &[(12, 1)]),
        sf.order(&BUYERS[1], CARTS[0]),
        sf.order(&BUYERS[1], &[(9, 1)]),
    ];
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    assert_orders_as_paid(&sf, &dir, &orders, setup.gross);
    let with_fee = shop_totals(&sf, orders[0]);
    assert!(
        with_fee.iter().any(|t| t.0 == "ot_loworderfee"),
        "{with_fee:?}"
    );
    // The generator's low order fee (the demo's) writes what the module
    // wrote: the same totals, class and value.
    let mut generated = generated_from_shop(
        &sf,
        orders[0],
        &magsync::demo::customers(1, 1).remove(0),
        magsync::demo::Checkout {
            prices_with_tax: setup.gross,
            shipping_rate: Decimal::from(23),
            tax_before_shipping: true,
        },
    );
    generated.low_order_fee = d("5");
    let mut ours: Vec<(String, Decimal)> = generated
        .totals()
        .into_iter()
        .map(|(class, _, value, _)| (class.to_string(), value))
        .collect();
    let mut theirs = with_fee.clone();
    ours.sort();
    theirs.sort();
    assert_eq!(
        ours, theirs,
        "generator (left) against the real low order fee"
    );
    let m = mag_order(&dir, orders[0]);
    let fee = m.lines.iter().find(|l| l.kind == "service").unwrap();
    assert_eq!(
        (fee.code.as_str(), fee.vat, fee.unit_net, fee.unit_gross),
        ("OPL-MALE", Decimal::from(23), d("5.00"), d("6.15"))
    );
    assert_eq!(m.lines.last().unwrap().kind, "shipping");
    assert!(
        !mag_order(&dir, orders[1])
            .lines
            .iter()
            .any(|l| l.kind == "service")
    );
}

#[test]
fn the_low_order_fee_is_a_line_of_its_own_gross_shop() {
    low_order_fee("fee_gross", ShopSetup::GROSS);
}

#[test]
fn the_low_order_fee_is_a_line_of_its_own_net_shop() {
    low_order_fee("fee_net", ShopSetup::NET);
}

#[test]
fn customers_registered_in_the_shop_reach_the_magazyn_exactly() {
    let Some((sf, dir)) = shop_and_magazyn("customers", ShopSetup::GROSS, "") else {
        return;
    };
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers"])
        .ok();
    let rows = magazyn_rows(
        &dir,
        "SELECT code, name, email, street, postcode, city, country_code FROM customers ORDER BY code",
    );
    let shop = sf.rows("SELECT customers_id FROM customers ORDER BY customers_id");
    assert_eq!(rows.len(), 2);
    for ((r, b), id) in rows.iter().zip(&BUYERS).zip(&shop) {
        assert_eq!(r[0], format!("S1-{}", id[0]));
        match b.company {
            Some(c) => assert!(r[1].contains(c), "{r:?}"),
            None => assert_eq!(r[1], format!("{} {}", b.first, b.last)),
        }
        assert_eq!(
            (&r[2][..], &r[3][..], &r[4][..], &r[5][..], &r[6][..]),
            (b.email, b.street, b.postcode, b.city, "PL")
        );
    }
}

#[test]
fn an_admin_status_change_updates_the_magazyn_order_in_place() {
    let Some((sf, dir)) = shop_and_magazyn("status", ShopSetup::GROSS, "") else {
        return;
    };
    let o = sf.order(&BUYERS[0], CARTS[0]);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    let before = mag_order(&dir, o);
    assert_eq!(before.status, "Pending");
    let reserved = |code: &str| {
        magazyn_rows(
            &dir,
            &format!("SELECT CAST(s.reserved AS VARCHAR(40)) FROM stock s JOIN goods g ON g.id = s.good_id WHERE g.code = '{code}'"),
        )[0][0]
            .parse::<Decimal>()
            .unwrap()
    };
    assert_eq!(
        reserved("DVD-DHWV"),
        Decimal::ONE,
        "the open order reserves"
    );

    sf.status(o, 2, "Wysłano kurierem — paczka Żółć");
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"]);
    run.ok();
    let c = run.load_counts_of("orders");
    assert_eq!((c.inserted, c.updated), (0, 1), "{}", run.stdout);
    let after = mag_order(&dir, o);
    assert_eq!(after.status, "Processing");
    assert_eq!(after.total_gross, before.total_gross);
    assert_eq!(after.lines.len(), before.lines.len());
    assert_eq!(magazyn_count(&dir, "SELECT COUNT(*) FROM orders"), 1);
    assert_eq!(
        reserved("DVD-DHWV"),
        Decimal::ONE,
        "reserved once, not again"
    );

    // Delivered: the stock status is `realized` by default; the goods have
    // left, the reservation goes, once.
    sf.status(o, 3, "Doręczono");
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"])
        .ok();
    assert_eq!(mag_order(&dir, o).status, "realized");
    assert_eq!(reserved("DVD-DHWV"), Decimal::ZERO, "realized releases");
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders", "--full"])
        .ok();
    assert_eq!(reserved("DVD-DHWV"), Decimal::ZERO);
}

/// Magazyn prices (gross 19.99 … 1 234.56 on `Detal`) pushed into the shop
/// are what its product pages show: the gross in a gross shop, the net in a
/// net shop.
fn pushed_prices_show_on_the_product_page(test: &str, setup: ShopSetup) {
    let Some(sf) = storefront(test, setup) else {
        return;
    };
    let dir = Dir::with_config(&sf.config(""));
    // Products without a special (3, 5, 6 and 16 have one in the stock data).
    let grosses = ["19.99", "0.01", "7.77", "1234.56", "49.00", "100.00"];
    let products = sf.products_of(&[12, 25, 1, 28, 21, 7]);
    // The fifth good's net is the list's own, not derived from its gross
    // (49.00 / 1.23 = 39.84): a net shop shows that net, a gross shop the gross.
    let price_of = |p: &magsync::demo::Product| {
        let i = products.iter().position(|q| q.id == p.id).unwrap();
        let gross = d(grosses[i]);
        let net = match i {
            4 => d("40.00"),
            _ => magsync::money::round2(gross / Decimal::new(123, 2)),
        };
        (net, gross)
    };
    magazyn_stocked(dir.path(), &products, &["Detal"], |p| {
        (Some(price_of(p)), Some(Decimal::from(40)))
    });
    dir.magsync(&["sync", "--shop", "s1", "--flow", "products"])
        .ok();
    for p in &products {
        let (net, gross) = price_of(p);
        let want = if setup.gross { gross } else { net };
        assert_eq!(sf.shown_price(p.id), want, "product {} ({})", p.id, p.model);
    }
    let q = sf.rows("SELECT products_quantity FROM products WHERE products_id = 12");
    assert_eq!(q[0][0], "40");
}

#[test]
fn pushed_prices_show_on_the_product_page_of_a_gross_shop() {
    pushed_prices_show_on_the_product_page("push_gross", ShopSetup::GROSS);
}

#[test]
fn pushed_prices_show_on_the_product_page_of_a_net_shop() {
    pushed_prices_show_on_the_product_page("push_net", ShopSetup::NET);
}

#[test]
fn polish_text_of_a_latin1_shop_reaches_the_magazyn_exactly() {
    let setup = ShopSetup {
        gross: true,
        encoding: "latin1-utf8",
    };
    let Some((sf, dir)) = shop_and_magazyn("latin1", setup, "") else {
        return;
    };
    // The shop keeps UTF-8 bytes in latin1 columns, as PHP 5's ext/mysql did.
    let charset = sf.rows(
        "SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders' AND COLUMN_NAME = 'customers_name'",
    );
    assert_eq!(charset[0][0], "latin1");
    let o = sf.order(&BUYERS[1], CARTS[0]);
    let stored = sf.rows(&format!(
        "SELECT HEX(customers_name) FROM orders WHERE orders_id = {o}"
    ));
    assert_eq!(
        stored[0][0],
        "Anna Wąsowska-Źdźbło"
            .bytes()
            .map(|b| format!("{b:02X}"))
            .collect::<String>(),
        "UTF-8 bytes as they are, in a latin1 column"
    );
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    let m = mag_order(&dir, o);
    assert_eq!(
        (m.buyer_name.as_str(), m.buyer_city.as_str()),
        ("Anna Wąsowska-Źdźbło", "Kraków")
    );
    let names = magazyn_rows(
        &dir,
        "SELECT name, street, city FROM customers ORDER BY code",
    );
    assert!(names[0][0].contains("Żółw Sp. z o.o."), "{names:?}");
    assert_eq!(names[0][1..], ["ul. Świętokrzyska 11/13", "Łódź"]);
    assert_eq!(names[1][0], "Anna Wąsowska-Źdźbło");
    let comment = magazyn_rows(
        &dir,
        &format!("SELECT description FROM orders WHERE number = 'S1/{o}'"),
    );
    assert!(comment[0][0].contains("Pending"), "{comment:?}");
    assert!(m.customer_code.starts_with("S1-"));
}

/// The generator's order for the cart the shop recorded as order `o` (its
/// `orders_products`), flat delivery 5.00, under `checkout`.
fn generated_from_shop(
    sf: &Storefront,
    o: i64,
    customer: &magsync::demo::Customer,
    checkout: magsync::demo::Checkout,
) -> magsync::demo::Order {
    let lines = sf
        .rows(&format!(
            "SELECT products_id, products_model, products_price, final_price, products_tax, products_quantity
             FROM orders_products WHERE orders_id = {o} ORDER BY orders_products_id"
        ))
        .into_iter()
        .map(|r| magsync::demo::OrderLine {
            product: magsync::demo::Product {
                id: r[0].parse().unwrap(),
                model: r[1].clone(),
                name_pl: String::new(),
                name_en: String::new(),
                tax_class: 1,
                rate: d(&r[4]).normalize(),
                gross: Decimal::ZERO,
                price: d(&r[2]),
                quantity: 0,
            },
            quantity: r[5].parse().unwrap(),
            attributes: Vec::new(),
            final_price: d(&r[3]),
        })
        .collect();
    magsync::demo::Order {
        id: o,
        customer: customer.clone(),
        delivery_name: String::new(),
        delivery_street: String::new(),
        delivery_city: String::new(),
        delivery_postcode: String::new(),
        payment: String::new(),
        status: 1,
        currency: "PLN".into(),
        currency_value: Decimal::ONE,
        lines,
        shipping_title: "Flat Rate (Best Way):".into(),
        shipping_cost: d("5.00"),
        date_purchased: String::new(),
        checkout,
        guest: false,
        comment: String::new(),
        low_order_fee: Decimal::ZERO,
        coupon: Decimal::ZERO,
    }
}

/// The generator (`examples/gen_shop`, `magsync::demo`) against the real
/// checkout: for the same carts under the same settings it writes the same
/// `orders_total` rows (class and value) as osCommerce — untaxed and taxed
/// delivery, the modules in sort order and in the fresh-install order.
fn the_generator_writes_the_totals_of_the_real_checkout(test: &str, setup: ShopSetup) {
    let Some(sf) = storefront(test, setup) else {
        return;
    };
    sf.register(&BUYERS[0]);
    let customer = magsync::demo::customers(1, 1).remove(0);
    let mut compared = 0;
    for (shipping_class, tax_before_shipping) in [("0", true), ("1", false), ("1", true)] {
        let checkout = magsync::demo::Checkout {
            prices_with_tax: setup.gross,
            shipping_rate: if shipping_class == "1" {
                Decimal::from(23)
            } else {
                Decimal::ZERO
            },
            tax_before_shipping,
        };
        let [_, modules, _, class] = checkout.settings();
        assert_eq!(class.1, shipping_class);
        sf.configure(&[class, modules]);
        for cart in CARTS {
            let o = sf.order(&BUYERS[0], cart);
            let generated = generated_from_shop(&sf, o, &customer, checkout);
            let ours: Vec<(String, Decimal)> = generated
                .totals()
                .into_iter()
                .map(|(class, _, value, _)| (class.to_string(), value))
                .collect();
            assert_eq!(
                ours,
                shop_totals(&sf, o),
                "order {o} ({cart:?}) under {checkout:?}: generator (left) against osCommerce"
            );
            assert_eq!(generated.total_in_currency(), sf.paid(o));
            compared += 1;
        }
    }
    assert_eq!(compared, 9);
}

#[test]
fn the_generator_writes_the_totals_of_the_real_checkout_gross_shop() {
    the_generator_writes_the_totals_of_the_real_checkout("gen_gross", ShopSetup::GROSS);
}

#[test]
fn the_generator_writes_the_totals_of_the_real_checkout_net_shop() {
    the_generator_writes_the_totals_of_the_real_checkout("gen_net", ShopSetup::NET);
}

/// A Polish VAT zone set up "for all countries" (zone_country_id 0, a
/// common setup): the shop still charges 23 %, and so does every flow that
/// reads a rate (one tax reader, `tep_get_tax_rate`'s rule).
#[test]
fn a_vat_zone_for_all_countries_is_read_as_the_shop_reads_it() {
    let Some(sf) = storefront("allcountries", ShopSetup::GROSS) else {
        return;
    };
    sf.exec(
        "UPDATE zones_to_geo_zones SET zone_country_id = 0
         WHERE geo_zone_id = (SELECT tax_zone_id FROM tax_rates WHERE tax_description = 'VAT 23%')",
    );
    // The shop itself: a product of 39.99 net shows 49.19.
    assert_eq!(sf.shown_price(12), d("49.19"));
    let dir = Dir::with_config(
        &sf.config("import_price_list = \"Sklep\"\n[shops.s1.prices]\nadd_missing = true\n"),
    );
    dir.magsync(&["sync", "--shop", "s1", "--flow", "catalog", "prices"])
        .ok();
    let goods = magazyn_rows(
        &dir,
        "SELECT g.vat_symbol, CAST(p.net AS VARCHAR(40)), CAST(p.gross AS VARCHAR(40)) FROM goods g
         JOIN prices p ON p.good_id = g.id JOIN price_lists l ON l.id = p.price_list_id
         WHERE l.name = 'Sklep' AND g.code = 'DVD-DHWV'",
    );
    let got: Vec<Decimal> = goods[0].iter().map(|v| d(v)).collect();
    assert_eq!(got, [d("23"), d("39.99"), d("49.19")]);
    // The products push: the Magazyn's gross shows on the product page.
    rt().block_on(async {
        let (mut mag, list, _) = open_magazyn_detal(dir.path());
        let good = mag.good_by_code("DVD-DHWV").unwrap().unwrap();
        mag.begin().unwrap();
        mag.set_price(list, good, d("44.71"), d("54.99")).unwrap();
        mag.commit().unwrap();
        mag.close();
    });
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    run.ok();
    assert_eq!(sf.shown_price(12), d("54.99"), "{}", run.stdout);
}

/// Stock in flight: osCommerce lowers products_quantity at checkout. An
/// order placed after the last orders sync has taken 2 of the 6 the
/// Magazyn holds; the push leaves the shop 4, not 6 again. Once the order
/// is loaded (and reserves its 2), the push still leaves 4.
#[test]
fn a_push_never_hands_back_what_the_shop_sold_since_the_last_orders_sync() {
    let Some((sf, dir)) = shop_and_magazyn("in_flight", ShopSetup::GROSS, "") else {
        return;
    };
    let first = sf.order(&BUYERS[0], &[(25, 1)]);
    dir.magsync(&["sync", "--shop", "s1", "--flow", "customers", "orders"])
        .ok();
    magazyn_exec(
        &dir,
        "UPDATE stock SET quantity = '6' WHERE good_id = (SELECT id FROM goods WHERE code = 'DVD-DHWV')",
    );
    let before = sf.rows("SELECT products_quantity FROM products WHERE products_id = 12");
    let o = sf.order(&BUYERS[1], &[(12, 2)]);
    let after = sf.rows("SELECT products_quantity FROM products WHERE products_id = 12");
    assert_eq!(
        after[0][0].parse::<i64>().unwrap(),
        before[0][0].parse::<i64>().unwrap() - 2,
        "the checkout lowered the shop's stock"
    );
    dir.magsync(&["sync", "--shop", "s1", "--flow", "products"])
        .ok();
    let q =
        || sf.rows("SELECT products_quantity FROM products WHERE products_id = 12")[0][0].clone();
    assert_eq!(
        q(),
        "4",
        "6 in the Magazyn less the 2 of order {o} (after {first})"
    );
    dir.magsync(&["sync", "--shop", "s1", "--flow", "orders"])
        .ok();
    dir.magsync(&["sync", "--shop", "s1", "--flow", "products"])
        .ok();
    assert_eq!(q(), "4", "loaded and reserved: still 4, not 2");
}

/// A running special hides the pushed price: the shop shows the special.
/// The push says so for every such product (dry run, warnings, report).
#[test]
fn a_running_special_that_hides_the_pushed_price_is_reported() {
    let Some(sf) = storefront("special", ShopSetup::GROSS) else {
        return;
    };
    let dir = Dir::with_config(&sf.config(""));
    // Products 6 and 12: 6 has a special (30.00 net) in the stock data.
    stock_goods(&sf, &dir, &[6, 12], &["Detal"], ("36.59", "45.00"), 20);
    let dry = dir.magsync(&["sync", "--shop", "s1", "--flow", "products", "--dry-run"]);
    assert!(
        dry.stdout.contains("special") && dry.stdout.contains("DVD-MATR"),
        "{}",
        dry.stdout
    );
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    assert!(run.stdout.contains("special_active"), "{}", run.stdout);
    assert_eq!(sf.shown_price(12), d("45.00"));
    assert_eq!(sf.shown_price(6), d("36.90"), "the special still shows");
    // Each transform (the dry run's and the real one) names it once.
    let work = dir.batches("work");
    assert_eq!(work.len(), 2);
    for b in work {
        let warnings = std::fs::read_to_string(b.join("data/warnings.csv")).unwrap();
        assert_eq!(warnings.matches("special_active").count(), 1, "{warnings}");
        assert!(warnings.contains("DVD-MATR"), "{warnings}");
    }
}

/// With `end_specials` the push ends the special that hides its price: the
/// product page shows the Magazyn price; `magsync undo` starts the special
/// again and the page shows it as before.
#[test]
fn a_push_with_end_specials_shows_the_magazyn_price_and_undo_brings_the_special_back() {
    let Some(sf) = storefront("special_end", ShopSetup::GROSS) else {
        return;
    };
    let dir = Dir::with_config(&sf.config("[shops.s1.products]\nend_specials = true\n"));
    stock_goods(&sf, &dir, &[6, 12], &["Detal"], ("36.59", "45.00"), 20);
    assert_eq!(sf.shown_price(6), d("36.90"), "the special shows before");
    let dry = dir.magsync(&["sync", "--shop", "s1", "--flow", "products", "--dry-run"]);
    assert!(
        dry.stdout.contains("special") && dry.stdout.contains("ended"),
        "{}",
        dry.stdout
    );
    assert_eq!(sf.shown_price(6), d("36.90"), "a dry run ends nothing");
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    run.ok();
    assert!(!run.stdout.contains("special_active"), "{}", run.stdout);
    assert_eq!(
        sf.shown_price(6),
        d("45.00"),
        "the Magazyn price, special ended"
    );
    assert_eq!(sf.shown_price(12), d("45.00"));
    undo_last_push(&dir);
    assert_eq!(
        sf.shown_price(6),
        d("36.90"),
        "undo: the special runs again"
    );
}

/// A Magazyn price list ("Promocja") drives the specials: a good put on it
/// gets a special the product page shows, a new price on the list reprices
/// it, taken off the list it ends; `magsync undo` takes the last push back.
#[test]
fn a_promotion_price_list_creates_reprices_and_ends_the_shops_specials() {
    let Some(sf) = storefront("promo", ShopSetup::GROSS) else {
        return;
    };
    let dir =
        Dir::with_config(&sf.config("[shops.s1.products]\nspecials_price_list = \"Promocja\"\n"));
    let products = stock_goods(
        &sf,
        &dir,
        &[12, 25],
        &["Detal", "Promocja"],
        ("36.59", "45.00"),
        20,
    );
    let promo = |gross: &str| {
        let net = (d(gross) / d("1.23")).round_dp(4);
        magazyn_exec(
            &dir,
            "DELETE FROM prices WHERE price_list_id = (SELECT id FROM price_lists WHERE name = 'Promocja')",
        );
        magazyn_exec(
            &dir,
            &format!(
                "INSERT INTO prices (price_list_id, good_id, net, gross, updated_at)
                 SELECT l.id, g.id, '{net}', '{gross}', '2026-12-01T00:00:00Z' FROM price_lists l, goods g
                 WHERE l.name = 'Promocja' AND g.code = '{}'",
                products[0].model
            ),
        );
    };
    let push = || {
        let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
        run.ok();
        run
    };
    let before = sf.shown_price(12);
    promo("39.00");
    push();
    assert_eq!(
        sf.shown_price(12),
        d("39.00"),
        "created: the page shows the promotion"
    );
    assert_eq!(sf.shown_price(25), d("45.00"));
    // Undo takes a created special away again; the next push brings it back.
    undo_last_push(&dir);
    assert_eq!(
        sf.shown_price(12),
        before,
        "undo: as before the push, no special"
    );
    assert_eq!(
        sf.rows("SELECT COUNT(*) FROM specials WHERE products_id = 12")[0][0],
        "0"
    );
    push();
    assert_eq!(sf.shown_price(12), d("39.00"));
    promo("38.00");
    push();
    assert_eq!(sf.shown_price(12), d("38.00"), "repriced");
    let running = || {
        sf.rows("SELECT COUNT(*) FROM specials WHERE products_id = 12 AND status = 1")[0][0].clone()
    };
    assert_eq!(running(), "1", "one special, repriced in place");
    magazyn_exec(
        &dir,
        "DELETE FROM prices WHERE price_list_id = (SELECT id FROM price_lists WHERE name = 'Promocja')",
    );
    push();
    assert_eq!(sf.shown_price(12), d("45.00"), "off the list: ended");
    assert_eq!(running(), "0");
    undo_last_push(&dir);
    assert_eq!(
        sf.shown_price(12),
        d("38.00"),
        "undo: the promotion runs again"
    );
}

/// A tax class with no rate in the store's zone (only a Florida rate, as in
/// the official install data) is taxed at 0 % by the shop: the push prices
/// it so, says so, and still pushes the stock.
#[test]
fn a_price_problem_never_holds_back_the_stock() {
    let Some(sf) = storefront("no_rate", ShopSetup::GROSS) else {
        return;
    };
    sf.exec(
        "INSERT INTO tax_class (tax_class_id, tax_class_title, tax_class_description, date_added) VALUES (2, 'Florida only', 'Florida only', now());
         INSERT INTO tax_rates (tax_zone_id, tax_class_id, tax_priority, tax_rate, tax_description, date_added) VALUES (1, 2, 1, 7.0, 'FL TAX 7.0%', now());
         UPDATE products SET products_tax_class_id = 2 WHERE products_id = 12",
    );
    let dir = Dir::with_config(&sf.config(""));
    stock_goods(&sf, &dir, &[12, 25], &["Detal"], ("40.65", "50.00"), 17);
    let run = dir.magsync(&["sync", "--shop", "s1", "--flow", "products"]);
    assert!(run.stdout.contains("no_tax_rate"), "{}", run.stdout);
    let q = sf.rows("SELECT products_id, products_quantity FROM products WHERE products_id IN (12, 25) ORDER BY 1");
    assert_eq!(q, [["12", "17"], ["25", "17"]]);
    assert_eq!(
        sf.shown_price(12),
        d("50.00"),
        "0 % in the shop: the gross as it is"
    );
    assert_eq!(sf.shown_price(25), d("50.00"));
}

/// LibreOffice Calc saves the install's descriptions (`\r<br />\n`) with LF
/// breaks. A workbook it saved unchanged, as .ods or .xlsx, imports with
/// "no changes"; with one word edited inside such a description, exactly
/// that cell changes, and it keeps the original's CR breaks.
#[test]
fn the_install_catalog_survives_a_libreoffice_round_trip_and_an_edit_changes_one_cell() {
    let Some(sf) = storefront("review_lo", ShopSetup::GROSS) else {
        return;
    };
    if !soffice_or_skip() {
        return;
    }
    let dir = Dir::with_config(&sf.config(""));
    dir.magsync(&["extract", "--shop", "s1", "--flow", "catalog"])
        .ok();
    let batch = dir.batches("outbox").pop().unwrap();
    let crlf = sf.rows("SELECT COUNT(*) FROM products_description WHERE products_description LIKE CONCAT('%', CHAR(13), '%')");
    assert!(
        crlf[0][0].parse::<i64>().unwrap() >= 10,
        "the install's descriptions hold CRs: {crlf:?}"
    );
    let x = dir.join("catalog.xlsx");
    dir.review_export(&batch, &x).ok();
    let import = |file: &std::path::Path| {
        let r = dir.review_import(&batch, file);
        r.ok();
        r.stdout
    };
    for fmt in ["ods", "xlsx"] {
        let saved = libreoffice_resave(&dir, &x, fmt);
        let out = import(&saved);
        assert!(out.contains("no changes"), "{fmt}: {out}");
    }
    // One word edited in the LibreOffice copy (its breaks are LF now).
    let saved = libreoffice_resave(&dir, &x, "ods");
    let edited = dir.join("edited.xlsx");
    let row = sf
        .rows("SELECT products_id FROM products ORDER BY products_id")
        .iter()
        .position(|r| r[0] == "6")
        .unwrap();
    // The description as the batch holds it (the mysql client would escape the CRs).
    let original = {
        let mut r = csv::Reader::from_path(batch.join("data/shop_products.csv")).unwrap();
        let h = r.headers().unwrap().clone();
        let (id, desc) = (
            h.iter().position(|c| c == "products_id").unwrap(),
            h.iter().position(|c| c == "description").unwrap(),
        );
        r.records()
            .map(Result::unwrap)
            .find(|rec| &rec[id] == "6")
            .unwrap()[desc]
            .to_string()
    };
    assert!(original.contains("\r<br />\n") && original.contains("Deutsch."));
    let changed = original.replace("\r\n", "\n").replace('\r', "\n").replacen(
        "Deutsch.",
        "Deutsch, Polski.",
        1,
    );
    edit_workbook(
        &saved,
        &edited,
        &[("shop_products", "description", row, &changed)],
    );
    let out = import(&edited);
    assert!(
        out.contains("1 changed cell") || out.matches("shop_products 6 description").count() == 1,
        "{out}"
    );
    let work = dir.batches("work").pop().unwrap();
    let changes = std::fs::read_to_string(work.join("data/review_changes.csv")).unwrap();
    let mut r = csv::Reader::from_reader(changes.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{changes}");
    assert_eq!((&rows[0][1], &rows[0][2]), ("6", "description"));
    assert_eq!(
        &rows[0][4],
        original.replacen("Deutsch.", "Deutsch, Polski.", 1),
        "the original's CR breaks kept"
    );
}
