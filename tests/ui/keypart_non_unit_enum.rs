use kvgen::KeyPart;
use serde::{Deserialize, Serialize};

#[derive(KeyPart, Serialize, Deserialize)]
pub enum Status {
    Active,
    Suspended { reason: String },
}
fn main() {}
