//! Runs every behaviour scenario against MemoryStore, bare and wrapped.

use kvgen::Clock;
use kvgen::{Faulty, KvStore, MemoryStore, Metered, SystemClock};
use kvgen_tests::scenarios::{self, Ctx};

fn run_all<S: KvStore>(backend: &str, store: &S) {
    let ctx = Ctx { run: "t".into(), now: SystemClock.now() };
    let mut failed = Vec::new();
    for name in scenarios::NAMES {
        let outcome = pollster::block_on(scenarios::run(name, store, &ctx));
        println!("{backend:<10} {name:<24} {}", if outcome.is_ok() { "ok" } else { "FAILED" });
        if let Err(why) = outcome {
            failed.push(format!("{name}: {why}"));
        }
    }
    assert!(failed.is_empty(), "{backend}: {failed:#?}");
}

#[test]
fn scenarios_pass_on_memory_store() {
    run_all("memory", &MemoryStore::new());
}

#[test]
fn scenarios_pass_through_wrappers() {
    run_all("metered", &Metered::new(MemoryStore::new()));
    run_all("faulty", &Faulty::new(MemoryStore::new()));
}

#[test]
fn unknown_scenario_is_an_error() {
    let ctx = Ctx { run: "t".into(), now: 0 };
    assert!(pollster::block_on(scenarios::run("nope", &MemoryStore::new(), &ctx)).is_err());
}
