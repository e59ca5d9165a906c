use kvgen::KvModel;
use serde::{Deserialize, Serialize};

// A raw value is a `String` or a `Vec<u8>`, not the id, not also `meta`, and one per model.
#[derive(KvModel, Serialize, Deserialize)]
pub struct Blob {
    #[kv(id, raw)]
    pub id: String,
    #[kv(raw)]
    pub size: u64,
    #[kv(raw, meta)]
    pub text: String,
    #[kv(raw)]
    pub data: Vec<u8>,
    #[kv(raw)]
    pub more: Vec<u8>,
}

// The value is no index either.
#[derive(KvModel, Serialize, Deserialize)]
pub struct Tag {
    #[kv(id)]
    pub id: String,
    #[kv(raw, unique)]
    pub name: String,
}

// A raw model has no indexes: index upkeep reads records in bulk, which KV does as text only.
#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "APP")]
pub struct Photo {
    #[kv(id)]
    pub id: String,
    #[kv(raw)]
    pub bytes: Vec<u8>,
    #[kv(index)]
    pub album: String,
}

fn main() {}
