//! `magsync demo` works with no database server at all.

use crate::util::*;

#[test]
fn demo_runs_without_a_database_server() {
    let dir = Dir::new();
    let demo = dir.join("demo");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_magsync"))
        .arg("demo")
        .arg(&demo)
        .env("MAGSYNC_TEST_MYSQL_URL", "mysql://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    let run = Run::from(out);
    run.ok();
    assert!(run.stdout.contains("batches verified"), "{}", run.stdout);
    assert!(demo.join("report.txt").is_file() && demo.join("report.json").is_file());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo.join("report.json")).unwrap()).unwrap();
    let first = &report["runs"][0];
    assert_eq!(
        first["customers"]["load"]["inserted"].as_u64().unwrap()
            + first["customers"]["load"]["updated"].as_u64().unwrap(),
        60
    );
    let orders = first["orders"]["load"]["inserted"].as_u64().unwrap();
    assert!(orders > 100, "{orders} orders loaded");
    assert_eq!(first["orders"]["load"]["rejected"], 0);
    assert_eq!(
        first["orders"]["transform"]["warnings"], 0,
        "every order total within tolerance"
    );
    let pushed = first["products"]["load"]["updated"].as_u64().unwrap();
    assert!(pushed > 30, "{pushed} shop products updated");
    let second = &report["runs"][1];
    assert_eq!(second["products"]["load"]["updated"], 0);
    assert_eq!(second["customers"]["load"]["unchanged"], 60);
    assert_eq!(second["orders"]["load"]["unchanged"], orders);
    for sub in ["outbox", "work", "receipts"] {
        for e in std::fs::read_dir(demo.join("staging").join(sub)).unwrap() {
            bagit_validate(&e.unwrap().path());
        }
    }
    assert_nowhere(&demo.join("staging"), magsync::demo::SECRET_MARKER);
    // Running it again replaces the previous demo.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_magsync"))
        .arg("demo")
        .arg(&demo)
        .output()
        .unwrap();
    Run::from(again).ok();
}
