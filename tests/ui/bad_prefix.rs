use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(prefix = "User:v1")]
pub struct User {
    #[kv(id)]
    pub id: String,
}
fn main() {}
