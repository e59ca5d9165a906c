//! Notebooks and tagged notes on MemoryStore, through the KvEnv struct build.rs generated.

use kvgen::{MemoryStore, Page};
use notes::models::{Note, Notebook, Preview};
use notes::KvEnv;

async fn run() -> kvgen::Result<()> {
    let store = MemoryStore::new();
    let env = KvEnv::new(&store);
    let (notebooks, notes) = (env.notebooks(), env.notes());
    notebooks.create(&Notebook { id: "nb1".into(), slug: "ideas".into(), title: "Ideas".into() }).await?;
    for (id, tag) in [(1, Some("rust")), (2, None), (3, Some("rust")), (4, Some("kv"))] {
        let note = Note { id, notebook_id: "nb1".into(), tag: tag.map(String::from), body: format!("note {id}") };
        notes.create(&note).await?;
    }
    let nb = notebooks.find_by_slug("ideas").await?.expect("created above");
    println!("notebook {:?} ({})", nb.title, nb.id);
    let all = notebooks.list_notes(&nb, Page::first(10)).await?;
    println!("  {} notes", all.items.len());
    let rust = notes.list_by_tag("rust", Page::first(10)).await?;
    println!("  tagged rust: {:?}", rust.items.iter().map(|n| n.id).collect::<Vec<_>>());
    let parents = notes.load_notebooks(&all.items).await?;
    println!("  every note's notebook loaded: {}", parents.iter().all(|p| p.as_ref() == Some(&nb)));
    // No index and a ttl: each put is one blind write.
    env.previews()
        .put_many(&[Preview { note_id: 1, html: "<p>note 1</p>".into() }])
        .await?
        .into_iter()
        .collect::<kvgen::Result<()>>()?;
    println!("  keys: {}", env.notes.keys().join(" "));
    // KvEnv is Clone when its store is (here a reference): a copy per tenant.
    let tenant = env.clone().with_scope("tenant-a")?;
    println!("  tenant-a sees {} notes", tenant.notes().count().await?);
    Ok(())
}

fn main() {
    if let Err(e) = pollster::block_on(run()) {
        eprintln!("notes example failed: {e}");
        std::process::exit(1);
    }
}
