use kvgen::KeyPart;
use serde::{Deserialize, Serialize};

// Two variants renamed to one name.
#[derive(KeyPart, Serialize, Deserialize)]
pub enum Plan {
    Free,
    #[serde(rename = "pro")]
    Pro,
    #[serde(rename = "pro")]
    Team,
}

// An alias that is another variant's name.
#[derive(KeyPart, Serialize, Deserialize)]
pub enum Tier {
    Gold,
    #[serde(alias = "Gold")]
    Silver,
}

// rename_all folding two names into one.
#[derive(KeyPart, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(non_camel_case_types)]
pub enum Region {
    EuWest,
    Eu_west,
}

// Untagged unit variants all serialize as `null`.
#[derive(KeyPart, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Flag {
    On,
    Off,
}

fn main() {}
