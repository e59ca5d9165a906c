// One misspelt attribute on a model other models relate to: exactly one
// error, at the typo; the models that name `Org` compile against its stubs.
use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "ORGS", has_many(Member, by = org_id))]
pub struct Org {
    #[kv(id)]
    pub id: String,
    #[kv(uniqe)]
    pub slug: String,
}

#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "ORGS")]
pub struct Member {
    #[kv(id)]
    pub id: String,
    #[kv(belongs_to = Org, index)]
    pub org_id: String,
}

#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "ORGS")]
pub struct Team {
    #[kv(id)]
    pub id: u64,
    #[kv(belongs_to = Org)]
    pub org_id: Option<String>,
}

fn main() {
    let store = kvgen::MemoryStore::new();
    let orgs = Org::repo(&store);
    let _ = orgs.get(&"acme".to_string());
    let _ = Member::repo(&store).load_orgs(&[]);
}
