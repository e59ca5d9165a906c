use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(has_many(Post, by = author_id))]
pub struct User {
    #[kv(id)]
    pub id: String,
}

#[derive(KvModel, Serialize, Deserialize)]
pub struct Post {
    #[kv(id)]
    pub id: u64,
    pub author_id: String,
}
fn main() {}
