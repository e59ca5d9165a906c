use kvgen::KvModel;
use serde::{Deserialize, Serialize};

// `strict` belongs to unique indexes only.
#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "APP", index(team, strict))]
pub struct Member {
    #[kv(id)]
    pub id: String,
    #[kv(index, strict)]
    pub email: String,
    pub team: String,
}

// A strict model needs a unique index to be strict about.
#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "APP", strict)]
pub struct Note {
    #[kv(id)]
    pub id: String,
    #[kv(index)]
    pub owner: String,
}

fn main() {}
