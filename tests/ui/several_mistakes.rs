use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(prefix = "Users", ttl = 10, unique(org, handle))]
pub struct User {
    pub id: String,
    #[kv(uniq)]
    pub email: String,
    pub handle: String,
}
fn main() {}
