use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "USERS")]
pub struct User {
    #[kv(id)]
    pub id: String,
}

#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "POSTS")]
pub struct Post {
    #[kv(id)]
    pub id: u64,
    #[kv(belongs_to = User)]
    pub author_id: String,
}

fn main() {}
