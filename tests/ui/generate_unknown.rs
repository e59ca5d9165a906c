use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct Order {
    #[kv(id, generate = "snowflake")]
    pub id: String,
    pub total: u32,
}
fn main() {}
