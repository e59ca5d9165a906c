use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(prefix = "user", prefix = "member")]
pub struct User {
    #[kv(id)]
    pub id: String,
}
fn main() {}
