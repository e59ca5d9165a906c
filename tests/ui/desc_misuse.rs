use kvgen::KvModel;
use serde::{Deserialize, Serialize};

// `desc` reverses an integer's key: text has no order-reversing key form.
#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "APP", index(aggregate desc, at), index(aggregate, at up, name = "b"))]
pub struct Event {
    #[kv(id)]
    pub id: String,
    #[kv(index, desc)]
    pub kind: String,
    pub aggregate: String,
    pub at: u64,
    // `desc` orders an index: alone it orders nothing.
    #[kv(desc)]
    pub seq: u32,
}

// A foreign key's index is read by the parent's loaders in ascending form.
#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "APP")]
pub struct Counter {
    #[kv(id)]
    pub id: u64,
    #[kv(belongs_to = Counter, index, desc)]
    pub parent_id: u64,
}

fn main() {}
