//! kvgen's cross-crate tests. The library holds the behaviour scenarios,
//! generic over the store, so that every backend runs the same ones.
#![deny(warnings)]
#![deny(missing_docs)]

mod pattern_scenarios;
pub mod scenarios;
