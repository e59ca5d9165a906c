//! kvgen's cross-crate tests. The library holds the behaviour scenarios,
//! generic over the store, so that every backend runs the same ones.
#![deny(warnings)]
#![deny(missing_docs)]

/// `Err` with the message and the line when `$cond` is false.
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!("{} (line {})", format!($($msg)+), line!()));
        }
    };
}

/// The value of a kvgen result, or `Err` naming the call and the line.
macro_rules! ok {
    ($e:expr) => {
        $e.map_err(|e| format!("{} failed: {e} (line {})", stringify!($e), line!()))?
    };
}

mod overlap_scenarios;
mod pattern_scenarios;
pub mod scenarios;
