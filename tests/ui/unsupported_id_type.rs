use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct Reading {
    #[kv(id)]
    pub at: f64,
    pub value: u32,
}
fn main() {}
