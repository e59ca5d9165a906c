use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(unique(org_id, handel))]
pub struct User {
    #[kv(id)]
    pub id: String,
    pub org_id: String,
    pub handle: String,
}
fn main() {}
