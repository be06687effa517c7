//! The `perfscope` command. Everything it does lives in the `perfscope_cli` library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = perfscope_cli::Cli::parse();
    match perfscope_cli::run(&cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            eprintln!("perfscope: error: {err}");
            ExitCode::from(perfscope_cli::EXIT_ERROR)
        }
    }
}
