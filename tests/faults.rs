//! The fault matrix: every write operation, with a fault at every operation
//! position, of every kind (fails before applying, fails after applying,
//! stalls forever = the Worker dies there), then the retry. After the fault
//! and after the retry, four invariants must hold:
//!
//! 1. no committed record is lost;
//! 2. no index entry blocks creating a value no live record holds;
//! 3. a unique or index lookup never returns a record that does not carry the value;
//! 4. after repair, every index matches the records exactly.
//!
//! `raw_fault_matrix` runs the same matrix on a raw text and a raw bytes
//! model (every write, batch and `get_many_or_fetch`): no record but the
//! call's targets changes, by a single byte; each target is as it was or as
//! the call writes it, and as written after the retry; `get_many` and
//! `list` give exactly what `get` gives; repair leaves every value as it is
//! and verify clean.

#[path = "support.rs"]
mod support;

use blog::User;
use kvgen::{Fault, Faulty, FindingKind, KvStore, MemoryStore, Page, Repo};
use pollster::block_on;
use std::collections::{BTreeMap, BTreeSet};

fn user(id: &str, email: &str, org: &str, handle: &str) -> User {
    User {
        id: id.into(),
        email: email.into(),
        org_id: org.into(),
        handle: handle.into(),
        name: format!("{id}-{handle}"),
    }
}

fn base() -> MemoryStore {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    for u in [user("u1", "a@x", "o1", "a"), user("u2", "b@x", "o1", "b"), user("u3", "c@x", "o2", "c")] {
        block_on(users.create(&u)).unwrap();
    }
    s
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Create,
    PutMovingUniques,
    PutNew,
    UpdateMovingUniqueAndIndex,
    UpsertOntoExisting,
    UpsertNew,
    Delete,
}

const OPS: [Op; 7] = [
    Op::Create,
    Op::PutMovingUniques,
    Op::PutNew,
    Op::UpdateMovingUniqueAndIndex,
    Op::UpsertOntoExisting,
    Op::UpsertNew,
    Op::Delete,
];

impl Op {
    /// The target record's id, its state before, and after success.
    fn target(self) -> (&'static str, Option<User>, Option<User>) {
        match self {
            Op::Create => ("u4", None, Some(user("u4", "d@x", "o2", "d"))),
            Op::PutMovingUniques => ("u1", Some(user("u1", "a@x", "o1", "a")), Some(user("u1", "a2@x", "o3", "a2"))),
            Op::PutNew => ("u5", None, Some(user("u5", "e@x", "o1", "e"))),
            Op::UpdateMovingUniqueAndIndex => {
                ("u2", Some(user("u2", "b@x", "o1", "b")), Some(user("u2", "b2@x", "o2", "b")))
            }
            Op::UpsertOntoExisting => ("u3", Some(user("u3", "c@x", "o2", "c")), Some(user("u3", "c@x", "o1", "c2"))),
            Op::UpsertNew => ("u6", None, Some(user("u6", "f@x", "o1", "f"))),
            Op::Delete => ("u1", Some(user("u1", "a@x", "o1", "a")), None),
        }
    }

    /// Runs the operation. A retry of a create that did commit reports
    /// AlreadyExists, which is the state asked for.
    async fn apply<S: KvStore>(self, s: &S) -> kvgen::Result<()> {
        let users = User::repo(s);
        let (_, _, after) = self.target();
        match self {
            Op::Create => match users.create(after.as_ref().unwrap()).await {
                Err(kvgen::Error::AlreadyExists { .. }) => Ok(()),
                other => other,
            },
            Op::PutMovingUniques | Op::PutNew => users.put(after.as_ref().unwrap()).await,
            Op::UpdateMovingUniqueAndIndex => users.update(after.as_ref().unwrap()).await,
            Op::UpsertOntoExisting => {
                users.upsert_by_email(User { id: "fresh-id".into(), ..after.unwrap() }).await.map(|_| ())
            }
            Op::UpsertNew => users.upsert_by_email(after.unwrap()).await.map(|_| ()),
            Op::Delete => users.delete(&"u1".to_string()).await.map(|_| ()),
        }
    }
}

/// Every live record, by id.
fn records(s: &MemoryStore) -> BTreeMap<String, User> {
    s.keys()
        .into_iter()
        .filter(|k| k.starts_with("user:"))
        .map(|k| {
            let u: User = serde_json::from_str(&s.raw(&k).unwrap()).unwrap();
            (u.id.clone(), u)
        })
        .collect()
}

/// Every index entry key of the model.
fn entries(s: &MemoryStore) -> BTreeSet<String> {
    s.keys().into_iter().filter(|k| k.starts_with("user.")).collect()
}

/// A record a call writes: its id, before, and after success.
type Target = (&'static str, Option<User>, Option<User>);

fn check_invariants(s: &MemoryStore, targets: &[Target], case: &str) {
    let repo = Repo::<User, _>::new(s);
    let users = User::repo(s);
    let live = records(s);
    // (1) No committed record lost: the others as they were, each target old or new.
    for (id, u) in records(&base()) {
        if !targets.iter().any(|(t, ..)| *t == id) {
            assert_eq!(live.get(&id), Some(&u), "{case}: record {id} lost or changed");
        }
    }
    for (target, before, after) in targets {
        let now = live.get(*target);
        assert!(now == before.as_ref() || now == after.as_ref(), "{case}: {target} is {now:?}");
    }
    // (2) No entry blocks a value no live record holds: creating it succeeds.
    for key in entries(s) {
        let probe = if let Some(email) = key.strip_prefix("user.email:") {
            Some(user("probe", &kvgen::key::decode::<String>(email).unwrap(), "probe-org", "probe"))
        } else if let Some(pair) = key.strip_prefix("user.org_id_handle:") {
            let (org, handle) = pair.split_once(':').unwrap();
            Some(user(
                "probe",
                "probe@x",
                &kvgen::key::decode::<String>(org).unwrap(),
                &kvgen::key::decode::<String>(handle).unwrap(),
            ))
        } else {
            None
        };
        let Some(probe) = probe else { continue };
        let held = live.values().any(|r| {
            (key.starts_with("user.email:") && r.email == probe.email)
                || (key.starts_with("user.org_id_handle:")
                    && (r.org_id.as_str(), r.handle.as_str()) == (probe.org_id.as_str(), probe.handle.as_str()))
        });
        if !held {
            let fork = s.fork();
            let created = block_on(User::repo(&fork).create(&probe));
            assert!(created.is_ok(), "{case}: entry {key} blocks a create: {created:?}");
        }
    }
    // (3) Lookups return only records carrying the value.
    for r in live.values() {
        if let Some(found) = block_on(users.find_by_email(&r.email)).unwrap() {
            assert_eq!(found.email, r.email, "{case}");
        }
        if let Some(found) = block_on(users.find_by_org_id_and_handle(&r.org_id, &r.handle)).unwrap() {
            assert_eq!(
                (found.org_id.as_str(), found.handle.as_str()),
                (r.org_id.as_str(), r.handle.as_str()),
                "{case}"
            );
        }
    }
    for org in ["o1", "o2", "o3", "probe-org"] {
        for found in block_on(users.list_by_org_id(org, Page::first(100))).unwrap().items {
            assert_eq!(found.org_id, org, "{case}");
        }
    }
    for email in ["a@x", "a2@x", "b@x", "b2@x", "c@x", "d@x", "e@x", "f@x"] {
        if let Some(found) = block_on(repo.find_unique(0, &[&email])).unwrap() {
            assert_eq!(found.email, email, "{case}");
        }
    }
}

/// (4) After repair, the indexes are exactly what the records call for.
fn repair_and_check(s: &MemoryStore, case: &str, fixed: &mut BTreeMap<&'static str, u64>) {
    let repo = Repo::<User, _>::new(s);
    let report = block_on(repo.repair()).unwrap();
    assert_eq!(report.conflicts + report.unreadable, 0, "{case}: {report}");
    for f in &report.findings {
        *fixed
            .entry(match f.kind {
                FindingKind::Missing => "missing",
                FindingKind::Dangling => "dangling",
                FindingKind::Mismatched => "mismatched",
                FindingKind::Conflict => "conflict",
                FindingKind::Unreadable => "unreadable",
                FindingKind::UnknownIndex => "unknown index",
            })
            .or_default() += 1;
    }
    let after = block_on(repo.verify()).unwrap();
    assert!(after.is_clean(), "{case}: still {after}");
    let expected: BTreeSet<String> =
        records(s).values().flat_map(|r| (0..3).filter_map(|i| repo.index_key(r, i))).collect();
    assert_eq!(entries(s), expected, "{case}: indexes differ from the records after repair");
}

#[test]
fn fault_matrix() {
    let mut runs = 0;
    let mut crashed = 0;
    let mut failed = 0;
    let mut fixed = BTreeMap::new();
    let mut sizes = Vec::new();
    for op in OPS {
        // How many KV operations the call makes when nothing fails.
        let probe = Faulty::new(base());
        block_on(op.apply(&probe)).unwrap();
        let n = probe.operations();
        sizes.push(format!("{op:?}={n}"));
        for position in 1..=n {
            for kind in [Fault::Before, Fault::After, Fault::Timeout] {
                runs += 1;
                let case = format!("{op:?}, {kind:?} at operation {position} of {n}");
                let store = base();
                let faulty = Faulty::new(store.clone());
                faulty.fail_at(position, kind);
                match Faulty::drive(op.apply(&faulty)) {
                    None => crashed += 1,
                    Some(Err(_)) => failed += 1,
                    Some(Ok(())) => {}
                }
                check_invariants(&store, &[op.target()], &format!("{case}, after the fault"));
                // The retry (a client retrying the request) reaches the state asked for.
                block_on(op.apply(&store)).unwrap_or_else(|e| panic!("{case}: retry failed: {e}"));
                let (target, _, after) = op.target();
                assert_eq!(records(&store).get(target), after.as_ref(), "{case}: after the retry");
                check_invariants(&store, &[op.target()], &format!("{case}, after the retry"));
                repair_and_check(&store, &case, &mut fixed);
            }
        }
    }
    println!(
        "fault matrix: {} operations ({}) x every position x 3 fault kinds = {runs} runs; {failed} calls failed, {crashed} stalled and were dropped; repair fixed {fixed:?}",
        OPS.len(),
        sizes.join(", ")
    );
    assert!(runs > 100, "the matrix ran {runs} cases");
}

/// Batches (`put_many`, `create_many`, `delete_many`): each record with the protocol of its single call.
#[derive(Debug, Clone, Copy)]
enum BatchOp {
    /// u1 moves off a@x, u2 then takes it, u4 is new.
    Put,
    /// Two new users.
    Create,
    /// Two users.
    Delete,
}

impl BatchOp {
    fn targets(self) -> Vec<Target> {
        match self {
            BatchOp::Put => vec![
                ("u1", Some(user("u1", "a@x", "o1", "a")), Some(user("u1", "a2@x", "o3", "a"))),
                ("u2", Some(user("u2", "b@x", "o1", "b")), Some(user("u2", "a@x", "o2", "b"))),
                ("u4", None, Some(user("u4", "d@x", "o1", "d"))),
            ],
            BatchOp::Create => {
                vec![("u4", None, Some(user("u4", "d@x", "o2", "d"))), ("u5", None, Some(user("u5", "e@x", "o1", "e")))]
            }
            BatchOp::Delete => {
                vec![("u1", Some(user("u1", "a@x", "o1", "a")), None), ("u3", Some(user("u3", "c@x", "o2", "c")), None)]
            }
        }
    }

    /// Runs the batch; `Ok` when every record reached its state (a retried
    /// create that did commit answers AlreadyExists).
    async fn apply<S: KvStore>(self, s: &S) -> kvgen::Result<()> {
        let users = User::repo(s);
        let after: Vec<User> = self.targets().into_iter().filter_map(|(_, _, a)| a).collect();
        let outcomes = match self {
            BatchOp::Put => users.put_many(&after).await?,
            BatchOp::Create => users.create_many(&after).await?,
            BatchOp::Delete => {
                let ids: Vec<String> = self.targets().iter().map(|(id, ..)| id.to_string()).collect();
                users.delete_many(&ids).await?.into_iter().map(|o| o.map(|_| ())).collect()
            }
        };
        for o in outcomes {
            match o {
                Err(kvgen::Error::AlreadyExists { .. }) if matches!(self, BatchOp::Create) => {}
                other => other?,
            }
        }
        Ok(())
    }
}

#[test]
fn batch_fault_matrix() {
    let mut runs = 0;
    for op in [BatchOp::Put, BatchOp::Create, BatchOp::Delete] {
        let probe = Faulty::new(base());
        block_on(op.apply(&probe)).unwrap();
        let n = probe.operations();
        for position in 1..=n {
            for kind in [Fault::Before, Fault::After, Fault::Timeout] {
                runs += 1;
                let case = format!("{op:?}, {kind:?} at operation {position} of {n}");
                let store = base();
                let faulty = Faulty::new(store.clone());
                faulty.fail_at(position, kind);
                let _ = Faulty::drive(op.apply(&faulty));
                check_invariants(&store, &op.targets(), &format!("{case}, after the fault"));
                block_on(op.apply(&store)).unwrap_or_else(|e| panic!("{case}: retry failed: {e}"));
                let live = records(&store);
                for (target, _, after) in op.targets() {
                    assert_eq!(live.get(target), after.as_ref(), "{case}: {target} after the retry");
                }
                check_invariants(&store, &op.targets(), &format!("{case}, after the retry"));
                repair_and_check(&store, &case, &mut BTreeMap::new());
            }
        }
    }
    println!("batch fault matrix: {runs} runs");
    assert!(runs > 60, "the matrix ran {runs} cases");
}

#[test]
fn repair_fixes_every_kind_of_corruption() {
    use kvgen::PutOptions;
    let s = base();
    let repo = Repo::<User, _>::new(&s);
    assert!(block_on(repo.verify()).unwrap().is_clean());
    let put = |k: &str, v: &str, meta: Option<serde_json::Value>| {
        block_on(s.put(k, v.as_bytes(), &PutOptions { metadata: meta, ..Default::default() })).unwrap()
    };
    put("user.email:ghost@x", "ghost", None); // dangling: no such record
    put("user.email:zzz@x", "u1", None); // dangling: u1 does not carry it
    put("user.org_id:o9:u1", "", None); // dangling secondary
    put("user.retired_index:x", "u1", None); // an index the model does not declare: kept unless asked
    block_on(s.delete("user.email:b@x")).unwrap(); // missing unique
    block_on(s.delete("user.org_id:o2:u3")).unwrap(); // missing secondary
    put("user.org_id_handle:o1:a", "u2", None); // mismatched: points at u2, u1 carries it
    put("user.org_id:o1:u2", "", Some(serde_json::json!({ "name": "stale" }))); // mismatched metadata
    let found = block_on(repo.verify()).unwrap();
    let counts = |r: &kvgen::IndexReport| (r.dangling, r.missing, r.mismatched, r.conflicts, r.unknown_index);
    assert_eq!(counts(&found), (3, 2, 2, 0, 1), "{found}");
    assert!(!found.repaired);
    let fixed = block_on(repo.repair()).unwrap();
    assert_eq!(counts(&fixed), (3, 2, 2, 0, 1), "{fixed}");
    // The entry of the unknown index is still there, and only it.
    let after = block_on(repo.verify()).unwrap();
    assert_eq!(counts(&after), (0, 0, 0, 0, 1), "{after}");
    assert_eq!(s.raw("user.retired_index:x").as_deref(), Some("u1"));
    block_on(repo.repair_with(kvgen::RepairOptions { drop_unknown_indexes: true })).unwrap();
    assert!(block_on(repo.verify()).unwrap().is_clean());
    assert_eq!(s.raw("user.retired_index:x"), None);
    assert_eq!(block_on(User::repo(&s).find_by_email("b@x")).unwrap().map(|u| u.id), Some("u2".into()));
}

#[test]
fn verify_and_repair_page_through_thousands() {
    let s = MemoryStore::new();
    let users = User::repo(&s);
    for i in 0..2500 {
        block_on(users.create(&user(&format!("u{i:05}"), &format!("{i}@x"), "big", &format!("h{i}")))).unwrap();
    }
    // Lose one entry of every 100th record.
    for i in (0..2500).step_by(100) {
        block_on(s.delete(&format!("user.email:{i}@x"))).unwrap();
    }
    let report = block_on(users.verify()).unwrap();
    assert_eq!((report.records, report.entries, report.missing), (2500, 3 * 2500 - 25, 25), "{report}");
    assert_eq!(report.findings.len(), 25);
    block_on(users.repair()).unwrap();
    assert!(block_on(users.verify()).unwrap().is_clean());
}

#[test]
fn env_verifies_and_repairs_every_model() {
    let (app, sessions) = (MemoryStore::new(), MemoryStore::new());
    let env = blog::KvEnv::new(app.clone(), sessions.clone());
    block_on(env.users().create(&user("u1", "a@x", "o1", "a"))).unwrap();
    block_on(app.delete("user.email:a@x")).unwrap();
    block_on(sessions.put("session.user_id:u1:gone", b"", &kvgen::PutOptions::default())).unwrap();
    let reports = block_on(env.verify_all()).unwrap();
    assert_eq!(reports.len(), 6, "the blog's six models");
    let dirty: Vec<_> = reports.iter().filter(|r| !r.is_clean()).map(|r| r.model).collect();
    assert_eq!(dirty, ["user", "session"]);
    block_on(env.repair_all()).unwrap();
    assert!(block_on(env.verify_all()).unwrap().iter().all(|r| r.is_clean()));
}

/// Batches of a strict model (`Member`: its email claimed on the
/// coordinator): `put_many`, `create_many`, `delete_many`, with a fault at
/// every KV operation and coordinator request of the batch, of each kind,
/// the records written a moment after they were created and again once
/// their leases are over (a delete then frees its values at once). After
/// the fault and after the retry: no committed record lost, at most one
/// live record per strict value and the coordinator's holder is that
/// record, once claims have settled a value is free exactly when no live
/// record carries it, and repair finds no conflict.
mod strict_batches {
    use super::support::{holder, member, member_records as records, Member, T0};
    use kvgen::coord::{LEASE_MS, SETTLE_MS};
    use kvgen::{Clock, Error, Fault, Faulty, KvStore, ManualClock, MemoryStore, Repo};
    use pollster::block_on;

    const EMAILS: [&str; 6] = ["a@x", "a2@x", "b@x", "c@x", "d@x", "e@x"];
    const SETTLE: u64 = (LEASE_MS + SETTLE_MS) / 1000;

    type Target = (&'static str, Option<Member>, Option<Member>);

    fn base(clock: &ManualClock, gap: u64) -> MemoryStore {
        clock.set(T0);
        let s = MemoryStore::with_clock(clock.clone());
        for m in [member("m1", "a@x", "t1"), member("m2", "b@x", "t1"), member("m3", "c@x", "t2")] {
            block_on(Member::repo(&s).create(&m)).unwrap();
        }
        clock.advance(gap);
        s
    }

    #[derive(Debug, Clone, Copy)]
    enum Batch {
        /// m1 moves off a@x, m2 then takes it, m4 is new.
        Put,
        /// Two new members and one onto m3's value (refused).
        Create,
        /// Two members.
        Delete,
    }

    impl Batch {
        fn targets(self) -> Vec<Target> {
            match self {
                Batch::Put => vec![
                    ("m1", Some(member("m1", "a@x", "t1")), Some(member("m1", "a2@x", "t3"))),
                    ("m2", Some(member("m2", "b@x", "t1")), Some(member("m2", "a@x", "t2"))),
                    ("m4", None, Some(member("m4", "d@x", "t1"))),
                ],
                Batch::Create => vec![
                    ("m4", None, Some(member("m4", "d@x", "t2"))),
                    ("m5", None, Some(member("m5", "e@x", "t1"))),
                    ("m6", None, None),
                ],
                Batch::Delete => {
                    vec![("m1", Some(member("m1", "a@x", "t1")), None), ("m3", Some(member("m3", "c@x", "t2")), None)]
                }
            }
        }

        /// Runs the batch: `Ok` when every record reached its state, `Err`
        /// with the first failure (a `UniqueViolation` when a value another
        /// record released has not settled yet).
        async fn apply<S: KvStore>(self, s: &S) -> kvgen::Result<()> {
            let members = Member::repo(s);
            let outcomes = match self {
                Batch::Put => {
                    let recs: Vec<Member> = self.targets().into_iter().filter_map(|(_, _, a)| a).collect();
                    members.put_many(&recs).await?
                }
                Batch::Create => {
                    let mut recs: Vec<Member> = self.targets().into_iter().filter_map(|(_, _, a)| a).collect();
                    recs.push(member("m6", "c@x", "t1"));
                    let mut out = members.create_many(&recs).await?;
                    // Refused, or failed by the fault: never written.
                    if let Some(Ok(())) = out.pop() {
                        panic!("m6 took m3's strict value");
                    }
                    out
                }
                Batch::Delete => {
                    let ids: Vec<String> = self.targets().iter().map(|(id, ..)| id.to_string()).collect();
                    members.delete_many(&ids).await?.into_iter().map(|o| o.map(|_| ())).collect()
                }
            };
            for o in outcomes {
                match o {
                    Err(Error::AlreadyExists { .. }) if matches!(self, Batch::Create) => {}
                    other => other?,
                }
            }
            Ok(())
        }
    }

    fn check(s: &MemoryStore, clock: &ManualClock, batch: Batch, case: &str) {
        let live = records(s);
        let targets = batch.targets();
        // No committed record lost: the others as they were, each target old or new.
        for (id, m) in [member("m1", "a@x", "t1"), member("m2", "b@x", "t1"), member("m3", "c@x", "t2")]
            .into_iter()
            .map(|m| (m.id.clone(), m))
        {
            if !targets.iter().any(|(t, ..)| *t == id) {
                assert_eq!(live.get(&id), Some(&m), "{case}: record {id} lost or changed");
            }
        }
        for (target, before, after) in &targets {
            let now = live.get(*target);
            assert!(now == before.as_ref() || now == after.as_ref(), "{case}: {target} is {now:?}");
        }
        // One live record per strict value, and it is the coordinator's holder.
        for email in EMAILS {
            let carriers: Vec<&String> = live.values().filter(|m| m.email == email).map(|m| &m.id).collect();
            assert!(carriers.len() <= 1, "{case}: {email} carried by {carriers:?}");
            if let [id] = carriers[..] {
                assert_eq!(holder(s, email).as_ref(), Some(id), "{case}: {email}");
            }
        }
        // Once every claim has settled, a value is free exactly when no live
        // record carries it (probed on copies).
        let at = clock.now();
        clock.advance(SETTLE);
        for email in EMAILS {
            let probe = s.fork();
            let created = block_on(Member::repo(&probe).create(&member("probe", email, "tp")));
            let carried = live.values().any(|m| m.email == email);
            match (carried, &created) {
                (true, Err(Error::UniqueViolation { .. })) | (false, Ok(())) => {}
                _ => panic!("{case}: creating {email} (carried: {carried}) gave {created:?}"),
            }
        }
        clock.set(at);
    }

    #[test]
    fn strict_batch_fault_matrix() {
        let (mut runs, mut failed, mut stalled) = (0, 0, 0);
        let clock = ManualClock::new(T0);
        // Written at once (a drop waits for the claim to settle) and after
        // the creates' leases (a drop frees its value at once).
        for gap in [0, (LEASE_MS + kvgen::coord::MARGIN_MS) / 1000] {
            for batch in [Batch::Put, Batch::Create, Batch::Delete] {
                let probe = Faulty::new(base(&clock, gap));
                let _ = block_on(batch.apply(&probe));
                let n = probe.operations();
                for position in 1..=n {
                    for kind in [Fault::Before, Fault::After, Fault::Timeout] {
                        runs += 1;
                        let case =
                            format!("{batch:?} {gap} s after the creates, {kind:?} at operation {position} of {n}");
                        let store = base(&clock, gap);
                        let faulty = Faulty::new(store.clone());
                        faulty.fail_at(position, kind);
                        match Faulty::drive(batch.apply(&faulty)) {
                            None => stalled += 1,
                            Some(Err(_)) => failed += 1,
                            Some(Ok(())) => {}
                        }
                        check(&store, &clock, batch, &format!("{case}, after the fault"));
                        // The retry reaches the state asked for, once claims
                        // left behind have settled at the latest.
                        let retried = match block_on(batch.apply(&store)) {
                            Err(Error::UniqueViolation { .. }) => {
                                clock.advance(SETTLE);
                                block_on(batch.apply(&store))
                            }
                            other => other,
                        };
                        retried.unwrap_or_else(|e| panic!("{case}: retry failed: {e}"));
                        let live = records(&store);
                        for (target, _, after) in batch.targets() {
                            assert_eq!(live.get(target), after.as_ref(), "{case}: {target} after the retry");
                        }
                        check(&store, &clock, batch, &format!("{case}, after the retry"));
                        let report = block_on(Repo::<Member, _>::new(&store).repair()).unwrap();
                        assert_eq!(report.conflicts + report.unreadable, 0, "{case}: {report}");
                        assert!(block_on(Repo::<Member, _>::new(&store).verify()).unwrap().is_clean(), "{case}");
                    }
                }
            }
        }
        println!("strict batch fault matrix: {runs} runs; {failed} batches failed, {stalled} stalled");
        assert!(runs > 100, "{runs}");
    }
}

// ---- raw models: text and bytes ------------------------------------------------

/// A raw text value, the other fields in metadata.
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Note {
    #[kv(id)]
    id: String,
    #[kv(raw)]
    body: String,
    #[kv(meta)]
    title: String,
}

/// A raw bytes value.
#[derive(kvgen::KvModel, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
#[kv(binding = "APP")]
struct Blob {
    #[kv(id)]
    id: String,
    #[kv(raw)]
    data: Vec<u8>,
    width: Option<u32>,
}

/// A raw model the matrix runs on: three stored records, and what a write changes one to.
trait RawCase: kvgen::Model<Id = String> + Clone + PartialEq + std::fmt::Debug {
    fn stored(id: &str) -> Self;
    fn changed(id: &str) -> Self;
}

impl RawCase for Note {
    fn stored(id: &str) -> Self {
        let body = match id {
            "r1" => "",
            "r2" => "a\u{feff}b ü😀",
            _ => "plain \"text\"\n",
        };
        Note { id: id.into(), body: body.into(), title: format!("t-{id}") }
    }
    fn changed(id: &str) -> Self {
        Note { id: id.into(), body: format!("changed {id}\t\u{feff}"), title: format!("new-{id}") }
    }
}

impl RawCase for Blob {
    fn stored(id: &str) -> Self {
        let data = match id {
            "r1" => vec![0xef, 0xbb, 0xbf, b'x'],
            "r2" => vec![0xff, 0x00, 0x80],
            _ => Vec::new(),
        };
        Blob { id: id.into(), data, width: None }
    }
    fn changed(id: &str) -> Self {
        Blob { id: id.into(), data: vec![0xed, 0xa0, 0x80, id.len() as u8], width: Some(7) }
    }
}

#[derive(Debug, Clone, Copy)]
enum RawOp {
    Create,
    Put,
    Update,
    Delete,
    PutWithMetadata,
    PutMany,
    CreateMany,
    DeleteMany,
    /// `get_many_or_fetch` of a cached record and a missing one (fetched and written).
    Fetch,
}

const RAW_OPS: [RawOp; 9] = [
    RawOp::Create,
    RawOp::Put,
    RawOp::Update,
    RawOp::Delete,
    RawOp::PutWithMetadata,
    RawOp::PutMany,
    RawOp::CreateMany,
    RawOp::DeleteMany,
    RawOp::Fetch,
];

type RawTarget<M> = (&'static str, Option<M>, Option<M>);

fn raw_base<M: RawCase>() -> MemoryStore {
    let s = MemoryStore::new();
    for id in ["r1", "r2", "r3"] {
        block_on(Repo::<M, _>::new(&s).create(&M::stored(id))).unwrap();
    }
    s
}

impl RawOp {
    fn targets<M: RawCase>(self) -> Vec<RawTarget<M>> {
        let new = |id: &'static str| (id, None, Some(M::changed(id)));
        let change = |id: &'static str| (id, Some(M::stored(id)), Some(M::changed(id)));
        let gone = |id: &'static str| (id, Some(M::stored(id)), None);
        match self {
            RawOp::Create => vec![new("r4")],
            RawOp::Put | RawOp::PutWithMetadata => vec![change("r1")],
            RawOp::Update => vec![change("r2")],
            RawOp::Delete => vec![gone("r3")],
            RawOp::PutMany => vec![change("r1"), new("r4")],
            RawOp::CreateMany => vec![new("r4"), new("r5")],
            RawOp::DeleteMany => vec![gone("r1"), gone("r2")],
            RawOp::Fetch => vec![new("r4")],
        }
    }

    /// Runs the call; `Ok` when every target reached its state (a retried
    /// create that did commit answers AlreadyExists).
    async fn apply<M: RawCase, S: KvStore>(self, s: &S) -> kvgen::Result<()> {
        let repo = Repo::<M, _>::new(s);
        let after: Vec<M> = self.targets::<M>().into_iter().filter_map(|(_, _, a)| a).collect();
        let ids: Vec<String> = self.targets::<M>().iter().map(|(id, ..)| id.to_string()).collect();
        let outcomes: Vec<kvgen::Result<()>> = match self {
            RawOp::Create => vec![repo.create(&after[0]).await],
            RawOp::Put => vec![repo.put(&after[0]).await],
            RawOp::Update => vec![repo.update(&after[0]).await],
            RawOp::Delete => vec![repo.delete(&ids[0]).await.map(|_| ())],
            RawOp::PutWithMetadata => {
                vec![repo.put_with_metadata(&after[0], &serde_json::json!({"v": 1}), Default::default()).await]
            }
            RawOp::PutMany => repo.put_many(&after).await?,
            RawOp::CreateMany => repo.create_many(&after).await?,
            RawOp::DeleteMany => repo.delete_many(&ids).await?.into_iter().map(|o| o.map(|_| ())).collect(),
            RawOp::Fetch => {
                let asked = ["r1".to_string(), "r4".to_string()];
                let fetched = after.clone();
                let got = repo.get_many_or_fetch(&asked, Default::default(), |_| async { Ok(fetched) }).await?;
                assert_eq!(got, vec![Some(M::stored("r1")), Some(M::changed("r4"))], "get_many_or_fetch");
                Vec::new()
            }
        };
        for o in outcomes {
            match o {
                Err(kvgen::Error::AlreadyExists { .. }) if matches!(self, RawOp::Create | RawOp::CreateMany) => {}
                other => other?,
            }
        }
        Ok(())
    }
}

/// The model's records, read one key at a time (exact bytes).
fn raw_records<M: RawCase>(s: &MemoryStore) -> BTreeMap<String, M> {
    let repo = Repo::<M, _>::new(s);
    let prefix = format!("{}:", M::MODEL);
    s.keys()
        .into_iter()
        .filter_map(|k| {
            let id = k.strip_prefix(&prefix)?.to_string();
            let rec = block_on(repo.get(&id)).unwrap_or_else(|e| panic!("{k} does not read: {e}"))?;
            Some((id, rec))
        })
        .collect()
}

/// No record lost or changed but the targets, each target as it was or as
/// the call writes it, and every read path (`get_many`, `list`) giving what `get` gives.
fn check_raw<M: RawCase>(s: &MemoryStore, targets: &[RawTarget<M>], case: &str) {
    let live = raw_records::<M>(s);
    for id in ["r1", "r2", "r3", "r4", "r5"] {
        let got = live.get(id);
        match targets.iter().find(|(t, ..)| *t == id) {
            Some((_, before, after)) => {
                assert!(got == before.as_ref() || got == after.as_ref(), "{case}: {id} is {got:?}")
            }
            None => {
                let want = ["r1", "r2", "r3"].contains(&id).then(|| M::stored(id));
                assert_eq!(got, want.as_ref(), "{case}: {id}, not a target, changed");
            }
        }
    }
    let repo = Repo::<M, _>::new(s);
    let ids: Vec<String> = ["r1", "r2", "r3", "r4", "r5"].map(String::from).to_vec();
    let many = block_on(repo.get_many(&ids)).unwrap();
    let want: Vec<Option<M>> = ids.iter().map(|id| live.get(id).cloned()).collect();
    assert_eq!(many, want, "{case}: get_many");
    let listed = block_on(kvgen::all_pages(2, |p| repo.list(p))).unwrap();
    assert_eq!(listed.items, live.values().cloned().collect::<Vec<M>>(), "{case}: list");
    assert!(listed.unreadable.is_empty(), "{case}: unreadable {:?}", listed.unreadable);
}

fn raw_matrix<M: RawCase>() -> usize {
    let mut runs = 0;
    for op in RAW_OPS {
        let probe = Faulty::new(raw_base::<M>());
        block_on(op.apply::<M, _>(&probe)).unwrap();
        let n = probe.operations();
        let targets = op.targets::<M>();
        for position in 1..=n {
            for kind in [Fault::Before, Fault::After, Fault::Timeout] {
                runs += 1;
                let case = format!("{} {op:?}, {kind:?} at operation {position} of {n}", M::MODEL);
                let store = raw_base::<M>();
                let faulty = Faulty::new(store.clone());
                faulty.fail_at(position, kind);
                let _ = Faulty::drive(op.apply::<M, _>(&faulty));
                check_raw(&store, &targets, &format!("{case}, after the fault"));
                block_on(op.apply::<M, _>(&store)).unwrap_or_else(|e| panic!("{case}: retry failed: {e}"));
                let live = raw_records::<M>(&store);
                for (target, _, after) in &targets {
                    assert_eq!(live.get(*target), after.as_ref(), "{case}: {target} after the retry");
                }
                check_raw(&store, &targets, &format!("{case}, after the retry"));
                let report = block_on(Repo::<M, _>::new(&store).repair()).unwrap();
                assert!(report.records == live.len() as u64, "{case}: repair saw {report}");
                assert!(block_on(Repo::<M, _>::new(&store).verify()).unwrap().is_clean(), "{case}: after repair");
                assert_eq!(raw_records::<M>(&store), live, "{case}: repair changed a record");
            }
        }
    }
    runs
}

#[test]
fn raw_fault_matrix() {
    let text = raw_matrix::<Note>();
    let bytes = raw_matrix::<Blob>();
    println!("raw fault matrix: {text} runs on raw text, {bytes} on raw bytes");
    assert!(text > 30 && bytes > 30, "the matrix ran {text} and {bytes} cases");
}

/// The event log: an append (a commit of one event, retried by committing
/// it again) and a snapshot, with every fault kind at each of their KV
/// operations, on a stream that already holds an entry left by a stopped
/// append. After the fault and after the retry, the balance (and a snapshot
/// taken then) is the sum of the committed events: those whose record is
/// written, each once.
#[test]
fn event_log_fault_matrix() {
    use kvgen::ManualClock;
    use patterns::events::{self, Event, Snapshot};
    const NOW_MS: u64 = 1_800_000_000_000;
    let event = |at, cents, memo: &str| Event { at, ..events::new_event("acct", cents, memo).unwrap() };
    let (deposit, fee, orphan) = (
        event(NOW_MS - 600_000, 10_000, "deposit"),
        event(NOW_MS - 590_000, -300, "fee"),
        event(NOW_MS - 580_000, 7, "x"),
    );
    let withdrawal = event(NOW_MS - 500_000, -2500, "withdrawal");
    let base = || {
        let s = MemoryStore::with_clock(ManualClock::new(NOW_MS / 1000));
        for e in [&deposit, &fee] {
            block_on(events::commit(&Event::repo(&s), e)).unwrap();
        }
        let stopped = Faulty::new(s.clone());
        stopped.fail_at(3, Fault::Timeout);
        assert!(Faulty::drive(events::commit(&Event::repo(&stopped), &orphan)).is_none());
        s
    };
    let committed = |s: &MemoryStore| -> i64 {
        let records = s.keys().into_iter().filter(|k| k.starts_with("event:"));
        records.map(|k| serde_json::from_str::<Event>(&s.raw(&k).unwrap()).unwrap().cents).sum()
    };
    let check = |s: &MemoryStore, case: &str| {
        let want = committed(s);
        let balance = block_on(events::balance(&Event::repo(s), &Snapshot::repo(s), "acct")).unwrap();
        assert_eq!(balance, want, "{case}: balance");
        let fork = s.fork();
        let snap = block_on(events::snapshot(&Event::repo(&fork), &Snapshot::repo(&fork), "acct", NOW_MS)).unwrap();
        assert_eq!(snap.cents, want, "{case}: a snapshot taken now");
        let again = block_on(events::balance(&Event::repo(&fork), &Snapshot::repo(&fork), "acct")).unwrap();
        assert_eq!(again, want, "{case}: the balance from that snapshot");
    };
    #[derive(Debug, Clone, Copy)]
    enum EventOp {
        Append,
        Snapshot,
    }
    let mut runs = 0;
    for op in [EventOp::Append, EventOp::Snapshot] {
        let run = |s: &Faulty<MemoryStore>| {
            Faulty::drive(async {
                match op {
                    EventOp::Append => events::commit(&Event::repo(s), &withdrawal).await,
                    EventOp::Snapshot => {
                        events::snapshot(&Event::repo(s), &Snapshot::repo(s), "acct", NOW_MS).await.map(|_| ())
                    }
                }
            })
        };
        let probe = Faulty::new(base());
        run(&probe).unwrap().unwrap();
        let n = probe.operations();
        assert!(n >= 3, "{op:?} makes {n} operations");
        for position in 1..=n {
            for kind in [Fault::Before, Fault::After, Fault::Timeout] {
                runs += 1;
                let case = format!("{op:?}, {kind:?} at operation {position} of {n}");
                let store = base();
                let faulty = Faulty::new(store.clone());
                faulty.fail_at(position, kind);
                let _ = run(&faulty);
                check(&store, &format!("{case}, after the fault"));
                run(&Faulty::new(store.clone())).unwrap().unwrap_or_else(|e| panic!("{case}: retry failed: {e}"));
                check(&store, &format!("{case}, after the retry"));
                let want = 10_000 - 300 - if matches!(op, EventOp::Append) { 2500 } else { 0 };
                assert_eq!(committed(&store), want, "{case}: each event once, the orphan in none");
                if matches!(op, EventOp::Snapshot) {
                    let snap = block_on(Snapshot::repo(&store).get(&"acct".to_string())).unwrap();
                    assert_eq!(snap.map(|s| (s.cents, s.events)), Some((9700, 2)), "{case}: the snapshot");
                }
            }
        }
    }
    println!("event log fault matrix: {runs} runs");
    assert!(runs >= 21, "the matrix ran {runs} cases");
}
