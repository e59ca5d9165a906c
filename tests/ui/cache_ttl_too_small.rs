use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(cache_ttl = 29)]
pub struct Price {
    #[kv(id)]
    pub sku: String,
}
fn main() {}
