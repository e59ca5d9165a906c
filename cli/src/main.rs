//! `kvgen`: see `kvgen --help`. Exit codes: 0 done / current, 1 drift
//! (`check`), 2 bad input.

use clap::Parser;
use kvgen_cli::{run, Cli, Outcome};
use kvgen_codegen::diag::Error;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A large stack: deeply nested input is refused with an error, never a crash.
    let outcome = kvgen_codegen::with_large_stack(|| run(&cli, &mut std::io::stdout().lock()));
    let Some(outcome) = outcome else {
        eprintln!("error: kvgen could not run its work thread");
        return ExitCode::from(2);
    };
    match outcome {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Drift) => ExitCode::from(1),
        Err(Error::Invalid(problems)) => {
            for p in problems {
                eprintln!("error: {p}");
            }
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
