use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct Order {
    #[kv(id)]
    pub id: String,
    #[kv(generate = "uuid_v4")]
    pub reference: String,
}
fn main() {}
