//! The words every layer shares, at the bottom of the stack: which flow a
//! batch belongs to, what a step counted, the exit code those counts earn
//! under the site's policy, and the clock.
//!
//! They live here, not with the code that produces them, so that lower
//! layers can speak of them without reaching up: the Magazyn's ledger
//! records a step's [`Counts`], a batch's metadata names its [`Flow`], the
//! configuration carries the [`Policy`] and the run report turns counts into
//! an [`Exit`]. Nothing in this module knows of a database, a file or a
//! command.

use serde::{Deserialize, Serialize};

/// One of the five flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    Customers,
    Orders,
    Products,
    Prices,
    Catalog,
}

impl Flow {
    pub const ALL: [Flow; 5] = [
        Flow::Customers,
        Flow::Orders,
        Flow::Products,
        Flow::Prices,
        Flow::Catalog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Customers => "customers",
            Flow::Orders => "orders",
            Flow::Products => "products",
            Flow::Prices => "prices",
            Flow::Catalog => "catalog",
        }
    }

    pub fn parse(s: &str) -> Option<Flow> {
        Flow::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Does the flow go shop → Magazyn?
    pub fn to_magazyn(self) -> bool {
        !matches!(self, Flow::Products)
    }
}

impl std::fmt::Display for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one step did, for reports, the Magazyn's ledger and exit codes.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub records: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub warnings: u64,
}

impl Counts {
    /// The exit code these counts earn under `policy` (SPEC §7).
    pub fn exit(&self, policy: &Policy) -> Exit {
        if self.rejected > 0 {
            if policy.rejects_fatal {
                Exit::Failed
            } else {
                Exit::Rejects
            }
        } else if self.warnings > 0 && policy.warnings_count {
            Exit::Rejects
        } else {
            Exit::Done
        }
    }

    /// One summary line for a step. Extracts and transforms only count
    /// records; loads say what happened to them.
    pub fn summary(&self, step: &str) -> String {
        let written = self.inserted + self.updated + self.unchanged > 0 || step.contains("load");
        let mut s = format!("{step}: {} records", self.records);
        if written {
            s.push_str(&format!(
                ", {} inserted, {} updated, {} unchanged",
                self.inserted, self.updated, self.unchanged
            ));
        }
        s.push_str(&format!(
            ", {} rejected, {} warnings",
            self.rejected, self.warnings
        ));
        s
    }
}

/// A command's outcome, the process exit code (SPEC §7): 0 done, 1 done
/// with rejects or counted warnings, 2 failed. Ordered, so the worst of
/// several steps is their `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Done = 0,
    Rejects = 1,
    Failed = 2,
}

impl Exit {
    /// How a report names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Exit::Done => "ok",
            Exit::Rejects => "rejects",
            Exit::Failed => "failed",
        }
    }
}

/// `[policy]` of the configuration: what rejects and warnings do to the
/// exit code.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Rejects make a step fail (exit 2) instead of "completed with rejects" (exit 1).
    #[serde(default)]
    pub rejects_fatal: bool,
    /// Warnings also give exit code 1.
    #[serde(default)]
    pub warnings_count: bool,
}

/// The clock, in the one form magsync writes instants (UTC, to the second).
pub fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The current instant in a form fit for a file or run name
/// (`20261202t091902z`).
pub fn stamp() -> String {
    chrono::Utc::now().format("%Y%m%dt%H%M%Sz").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_follows_the_policy() {
        let rejects = Counts {
            rejected: 1,
            ..Counts::default()
        };
        let warnings = Counts {
            warnings: 3,
            ..Counts::default()
        };
        let lenient = Policy::default();
        let strict = Policy {
            rejects_fatal: true,
            warnings_count: true,
        };
        assert_eq!(Counts::default().exit(&strict), Exit::Done);
        assert_eq!(rejects.exit(&lenient), Exit::Rejects);
        assert_eq!(rejects.exit(&strict), Exit::Failed);
        assert_eq!(warnings.exit(&lenient), Exit::Done);
        assert_eq!(warnings.exit(&strict), Exit::Rejects);
    }

    #[test]
    fn every_flow_parses_back_from_its_name() {
        for f in Flow::ALL {
            assert_eq!(Flow::parse(f.as_str()), Some(f));
        }
        assert_eq!(Flow::parse("order"), None);
    }
}

/// A record a target refused, or passed with a warning: its key, a code
/// and what to tell a person. Written as a `[key, code, message]` triple
/// in `report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(String, String, String)", into = "(String, String, String)")]
pub struct Note {
    pub key: String,
    pub code: String,
    pub message: String,
}

impl Note {
    pub fn new(key: String, code: String, message: String) -> Note {
        Note { key, code, message }
    }
}

impl From<(String, String, String)> for Note {
    fn from((key, code, message): (String, String, String)) -> Note {
        Note { key, code, message }
    }
}

impl From<Note> for (String, String, String) {
    fn from(n: Note) -> Self {
        (n.key, n.code, n.message)
    }
}
