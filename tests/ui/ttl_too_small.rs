use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(ttl = 59)]
pub struct Session {
    #[kv(id)]
    pub token: String,
}
fn main() {}
