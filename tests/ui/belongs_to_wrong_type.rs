use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct User {
    #[kv(id)]
    pub id: String,
}

#[derive(KvModel, Serialize, Deserialize)]
pub struct Post {
    #[kv(id)]
    pub id: u64,
    #[kv(belongs_to = User)]
    pub author_id: u64,
}
fn main() {}
