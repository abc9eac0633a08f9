//! The `tipline` command line.

use clap::Parser;

use tipline::jurisdiction::Jurisdiction;
use tipline::lexicon::Lexicon;
use tipline::triage::cli::TriageArgs;

/// tipline: an anonymous crime tip line.
#[derive(Debug, Parser)]
#[command(version, about)]
enum Command {
    /// Triage tips from a JSON Lines file, or score the triage against labelled tips.
    Triage(TriageArgs),
}

fn main() -> anyhow::Result<()> {
    match Command::parse() {
        Command::Triage(args) => {
            let jurisdiction = Jurisdiction::builtin()?;
            let lexicon = Lexicon::builtin()?;
            tipline::triage::cli::run(args, &jurisdiction, &lexicon)
        }
    }
}
