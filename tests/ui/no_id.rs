use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "APP")]
pub struct User {
    pub id: String,
    pub email: String,
}
fn main() {}
