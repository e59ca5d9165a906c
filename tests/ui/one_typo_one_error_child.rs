// One misspelt attribute on a child model a `has_many` names: exactly one
// error, at the typo; the parent's loaders compile against the child's stubs.
use kvgen::KvModel;
use serde::{Deserialize, Serialize};

#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "ORGS", has_many(Member, by = org_id))]
pub struct Org {
    #[kv(id)]
    pub id: String,
}

#[derive(KvModel, Serialize, Deserialize)]
#[kv(binding = "ORGS")]
pub struct Member {
    #[kv(id)]
    pub id: String,
    #[kv(belongs_to = Org, indx)]
    pub org_id: String,
}

fn main() {
    let store = kvgen::MemoryStore::new();
    let _ = Org::repo(&store).list_members(&Org { id: "acme".into() }, kvgen::Page::first(10));
    let _ = Member::repo(&store).get(&"m".to_string());
}
