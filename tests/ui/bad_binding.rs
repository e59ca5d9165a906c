use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "my-app")]
pub struct User {
    #[kv(id)]
    pub id: String,
}
fn main() {}
