use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(has_many(_1, by = user_id))]
pub struct User {
    #[kv(id)]
    pub id: String,
}
fn main() {}
