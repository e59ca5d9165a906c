use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(unique(email))]
pub struct User {
    #[kv(id)]
    pub id: String,
    #[kv(unique)]
    pub email: String,
}
fn main() {}
