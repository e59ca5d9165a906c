use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct User {
    #[kv(id)]
    pub id: String,
    #[kv(unique, index)]
    pub email: String,
}
fn main() {}
