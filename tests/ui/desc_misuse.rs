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

fn main() {}
