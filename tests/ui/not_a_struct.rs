use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Member,
}
fn main() {}
