use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub struct Wrapper<T> {
    #[kv(id)]
    pub id: String,
    pub inner: T,
}
fn main() {}
