use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct User {
    #[kv(id, unique)]
    pub id: String,
}
fn main() {}
