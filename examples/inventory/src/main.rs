//! Stock levels on MemoryStore, with models generated from kvgen.toml.

use inventory::{Item, KvEnv, Warehouse};
use kvgen::{MemoryStore, Page};

async fn run() -> kvgen::Result<()> {
    let env = KvEnv::new(MemoryStore::new());
    let (warehouses, items) = (env.warehouses(), env.items());
    warehouses.create(&Warehouse { code: "BER1".into(), city: "Berlin".into() }).await?;
    warehouses.create(&Warehouse { code: "LIS1".into(), city: "Lisbon".into() }).await?;
    let stock =
        [(1, "BER1", "A-100", "Anvil", 3), (2, "BER1", "B-200", "Bellows", 12), (3, "LIS1", "A-100", "Anvil", 7)];
    for (id, wh, sku, name, quantity) in stock {
        items.create(&Item { id, warehouse_id: wh.into(), sku: sku.into(), name: name.into(), quantity }).await?;
    }
    let anvils = items.find_by_warehouse_id_and_sku("LIS1", "A-100").await?.expect("created above");
    println!("LIS1 A-100: {} x {}", anvils.quantity, anvils.name);
    let berlin = warehouses.list_by_city("Berlin", Page::first(10)).await?.items;
    let stocked = warehouses.load_items(&berlin).await?;
    println!("Berlin holds {} item lines", stocked.iter().map(Vec::len).sum::<usize>());
    let dup = items
        .create(&Item { id: 9, warehouse_id: "BER1".into(), sku: "A-100".into(), name: "Anvil".into(), quantity: 1 })
        .await;
    println!("a second BER1 A-100 line: {}", dup.err().map(|e| e.to_string()).unwrap_or_default());
    Ok(())
}

fn main() {
    if let Err(e) = pollster::block_on(run()) {
        eprintln!("inventory example failed: {e}");
        std::process::exit(1);
    }
}
