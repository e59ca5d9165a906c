use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct Order {
    #[kv(id, generate = "ulid")]
    pub id: u64,
    pub total: u32,
}
fn main() {}
