use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct Reading {
    #[kv(id)]
    pub id: String,
    #[kv(index)]
    pub score: f64,
}
fn main() {}
