use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct Reading {
    #[kv(id)]
    pub id: Option<String>,
}
fn main() {}
