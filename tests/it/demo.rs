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
    assert_eq!(
        report["runs"][0]["load"]["inserted"].as_u64().unwrap()
            + report["runs"][0]["load"]["updated"].as_u64().unwrap(),
        60
    );
    assert_eq!(report["runs"][1]["load"]["unchanged"], 60);
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
