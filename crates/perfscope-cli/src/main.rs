//! The `perfscope` command. Everything it does lives in the `perfscope_cli` library.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = perfscope_cli::Cli::parse();
    match perfscope_cli::run(&cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            eprintln!("perfscope: error: {}", perfscope_cli::error::one_line(&err.to_string()));
            ExitCode::from(perfscope_cli::EXIT_ERROR)
        }
    }
}
