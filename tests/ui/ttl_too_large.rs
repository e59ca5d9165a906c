use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(ttl = 18446744073709551615)]
pub struct Session {
    #[kv(id)]
    pub id: String,
}
fn main() {}
