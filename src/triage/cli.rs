//! `tipline triage`: batch triage and evaluation over JSON Lines files. (Being built: issue 5.)

use std::path::PathBuf;

use crate::jurisdiction::Jurisdiction;
use crate::lexicon::Lexicon;

/// Arguments of `tipline triage`.
#[derive(Debug, clap::Args)]
pub struct TriageArgs {
    /// JSON Lines input in the shape of tips-dev.jsonl.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Where to write the triaged JSON Lines.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// A labelled JSON Lines file to score the triage against.
    #[arg(long)]
    pub eval: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(
    _args: TriageArgs,
    _jurisdiction: &Jurisdiction,
    _lexicon: &Lexicon,
) -> anyhow::Result<()> {
    anyhow::bail!("triage is not built yet")
}
