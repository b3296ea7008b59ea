//! `magsync init [DIR]`: a commented sample configuration and an empty
//! Magazyn database (the reference schema).

use crate::base::Exit;
use crate::config::Config;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write magsync.toml and magazyn.db.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub const SAMPLE: &str = r#"# magsync configuration. Every key is explained; unknown keys are errors.
# Passwords never go in this file: name an environment variable
# (password_env) or a file readable only by you (password_file).

# This site's name: it goes into every batch and names the channels
# batches travel on ("<site>-to-<other site>"). [a-z0-9_.-]
site = "office"

# Staging root: batches (outbox/, work/, receipts/) and state (state/).
# Relative paths are relative to this file.
staging = "staging"

# Payload format of the batches this site writes: "csv" or "xml".
# Readers accept both.
format = "csv"

# A directory of template profiles overriding the built-in ones
# (see `magsync templates export`).
# templates = "templates"

[policy]
# Rejected records make the exit code 2 (failed) instead of 1.
rejects_fatal = false
# Warnings (e.g. a NIP with a bad checksum) also give exit code 1.
warnings_count = false

[magazyn]
# The Magazyn database. sqlite://PATH is the embedded reference schema,
# created on first use. A Firebird 3 database (what DGCS System uses):
#   url = "firebird://SYSDBA@server:3050/path/to/FIRMA.FDB"
#   password_file = "magazyn.password"      # mode 0600; or password_env
# (docs/templates.md: mapping onto an existing DGCS database, on a copy first).
url = "sqlite://magazyn.db"
# Create the schema, warehouses and price lists if the database is new.
create = true
# Seconds a load waits for data another program holds, before it rolls back
# and tries again (three attempts in all).
lock_wait = 10
# At a site that cannot reach the Magazyn, leave out url and name the
# site where it is:  site = "office"

# One section per shop; the id ([a-z0-9_-]) names the shop in batches.
[shops.sklep1]
# The shop's MariaDB/MySQL database, without a password.
url = "mysql://osc@127.0.0.1:3306/osc"
# password_env = "SKLEP1_DB_PASSWORD"
# password_file = "/etc/magsync/sklep1.password"
# Template profile describing the shop's schema.
profile = "oscommerce-2.3"
# How the shop stores text: utf8 | latin1-utf8 (UTF-8 bytes in latin1
# columns, the usual 2.3.3 install) | latin2 | cp1250.
encoding = "utf8"
# languages_id of the language names are read in.
language_id = 1
# Magazyn warehouse (symbol) for this shop's stock and orders.
warehouse = "MAG"
# Price list pushed to the shop ("" = the good's base price).
price_list = "Detal"
# Price list filled from the shop.
import_price_list = "Sklep1"
# Magazyn order number = order_prefix + orders_id + order_suffix (max 50).
order_prefix = "S1/"
order_suffix = ""
# Magazyn customer code = customer_code_prefix + customers_id.
customer_code_prefix = "S1-"
# Where the NIP of a customer and of an order's buyer comes from: "column"
# (a `nip` column of a copied customers template, e.g. `a.entry_nip AS nip`,
# and `billing_nip` of a copied orders template), "column-or-company" (that,
# else a NIP written in the company name, taken out of the name), or "none".
nip_source = "column-or-company"
# Incremental extracts re-read this many minutes before the last
# acknowledged point (clock skew, DST changes, slow transactions).
overlap_minutes = 120

[shops.sklep1.orders]
# Only for a Magazyn no warehouse program keeps (a real one issues goods
# itself): record a goods issue, lowering the stock, when an order becomes
# realized, and reverse it if the order goes back to an open status.
goods_issues = false

# Value maps (shop value = Magazyn value).
[shops.sklep1.map.shipping]
# "Kurier DPD" = "TRANSPORT-DPD"
# Order statuses: open orders reserve their goods in the warehouse;
# "realized" (the goods have left) and "cancelled" reserve nothing and
# release what the order held. The stock statuses need no line: Pending and
# Processing stay open, Delivered (status 3, whatever the shop's language
# calls it) is "realized". Name the others:
[shops.sklep1.map.order_status]
# "Wysłane" = "realized"
# "Anulowane" = "cancelled"
"#;

pub fn run(a: Args) -> anyhow::Result<Exit> {
    std::fs::create_dir_all(&a.dir)?;
    let path = a.dir.join("magsync.toml");
    if path.exists() {
        anyhow::bail!("{} exists; not overwriting it", path.display());
    }
    std::fs::write(&path, SAMPLE)?;
    let cfg = Config::load(&path)?;
    let mag = crate::flows::open_magazyn(&cfg)?;
    println!("wrote {}", path.display());
    println!("Magazyn database: {}", mag.url());
    mag.close();
    println!(
        "next: edit [shops.sklep1] for your shop, then `magsync --config {} sync --shop sklep1 --flow customers --dry-run`",
        path.display()
    );
    Ok(Exit::Done)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_config_is_valid() {
        let mut cfg =
            crate::config::Config::parse(super::SAMPLE, std::path::Path::new("magsync.toml"))
                .unwrap();
        cfg.path = "magsync.toml".into();
        cfg.validate().unwrap();
        assert_eq!(cfg.shops["sklep1"].customer_code_prefix, "S1-");
    }
}
