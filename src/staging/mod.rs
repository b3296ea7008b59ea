//! Staging batches: typed entity records in CSV or XML files inside BagIt
//! bags, with a tag file that says what the batch is. This is the contract
//! between the two sides of every flow; `docs/staging-format.md` describes it
//! for other programs.

pub mod bag;
pub mod batch;
pub mod behind;
pub mod codec;
pub mod entities;
pub mod group;
pub mod records;
pub mod schema;
pub mod site;
pub mod state;
pub mod xsd;

pub use batch::{Batch, BatchMeta, BatchWriter, Source, Stage};
pub use codec::{Format, Item, RecordReader, RecordWriter};
pub use records::Record;
pub use schema::{Entity, FieldProblem};
pub use site::{Hold, Site, SiteLock};
