use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(prefix = "one")]
#[allow(non_camel_case_types)]
pub struct _1 {
    #[kv(id)]
    pub id: String,
}
fn main() {}
