//! The coordinator as a Durable Object class (feature `durable`): one
//! object per cell name, holding the cell in its storage and answering each
//! request with [`apply`](crate::coord::apply), the function every
//! coordinator runs.

// The attribute generates the JavaScript-facing methods, undocumented.
#![allow(missing_docs)]

use crate::coord::cell::{Cell, Request};
use crate::coord::machine::apply;
use worker::{durable_object, DurableObject, Env, Response, Result, State};

/// The storage key of the cell.
const CELL: &str = "cell";

/// The coordinator Durable Object class. A Worker whose models have strict
/// unique indexes (or that uses [`Lock`](crate::Lock) or
/// [`RateLimiter`](crate::RateLimiter)) exports it by depending on kvgen
/// with the `durable` feature, and binds it as
/// [`COORDINATOR_BINDING`](crate::coord::COORDINATOR_BINDING) (`kvgen
/// wrangler` writes the binding and its migration).
///
/// The Worker's wrangler configuration binds it (this is what `kvgen
/// wrangler` writes):
///
/// ```toml
/// [[durable_objects.bindings]]
/// name = "KVGEN_COORDINATOR"
/// class_name = "KvgenCoordinator"
///
/// [[migrations]]
/// tag = "kvgen-coordinator-v1"
/// new_sqlite_classes = ["KvgenCoordinator"]
/// ```
///
/// A request reads the cell, applies the request and writes the cell back
/// with no other await in between: the object's input gate keeps other
/// requests out meanwhile, so each request is applied alone, in order.
#[durable_object(fetch)]
pub struct KvgenCoordinator {
    state: State,
}

impl DurableObject for KvgenCoordinator {
    fn new(state: State, _env: Env) -> Self {
        KvgenCoordinator { state }
    }

    async fn fetch(&self, mut req: worker::Request) -> Result<Response> {
        let request: Request = match req.json().await {
            Ok(r) => r,
            Err(e) => return Response::error(format!("not a coordinator request: {e}"), 400),
        };
        let storage = self.state.storage();
        let cell: Option<Cell> = storage.get(CELL).await?;
        let (cell, answer) = apply(cell, &request, worker::Date::now().as_millis());
        match cell {
            Some(cell) => storage.put(CELL, cell).await?,
            None => {
                storage.delete(CELL).await?;
            }
        }
        Response::from_json(&answer)
    }
}
