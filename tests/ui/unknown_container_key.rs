use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(bindng = "APP")]
pub struct User {
    #[kv(id)]
    pub id: String,
}
fn main() {}
