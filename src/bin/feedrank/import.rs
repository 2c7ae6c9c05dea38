//! `feedrank import ciao|lastfm|snap --input PATH --out DIR`: import a real dataset into the
//! world format (written atomically), then print the import report and the load summary.
use anyhow::Context;
use feedrank::io::import::{
    import_ciao_with_progress, import_lastfm_with_progress, import_snap, CiaoInput, ImportOptions,
    LastfmInput, TrustMode,
};
use feedrank::io::world_tsv::{
    read_world_with_progress, write_world_with_progress, ReadOptions, WriteOptions,
};
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    /// Reviews with timestamps + directed trust links (Ciao, Epinions-style).
    Ciao,
    /// Monthly tag events + friendships (Last.fm HetRec 2011-style).
    Lastfm,
    /// An edge list (SNAP or user_a/user_b TSV): graph only.
    Snap,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Dataset format.
    #[arg(value_enum)]
    format: Format,
    /// Dataset directory (ciao, lastfm) or edge-list file (snap).
    #[arg(long)]
    input: PathBuf,
    /// Output world directory.
    #[arg(long)]
    out: PathBuf,
    /// A friend's later same-topic action counts as a like within this many days.
    #[arg(long, default_value_t = 90)]
    horizon_days: u32,
    /// How directed trust links become friendships (ciao).
    #[arg(long, value_enum, default_value_t = TrustMode::Union)]
    trust: TrustMode,
    /// Write *.tsv.gz instead of *.tsv.
    #[arg(long)]
    gzip: bool,
    /// Ciao: the review file, overriding discovery in --input.
    #[arg(long)]
    ratings: Option<PathBuf>,
    /// Ciao: the trust-link file, overriding discovery in --input.
    #[arg(long)]
    links: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let opts = ImportOptions {
        horizon_days: args.horizon_days,
        trust: args.trust,
    };
    let bars = crate::common::Bars::new();
    let (world, report) = match args.format {
        Format::Ciao => {
            let input = match (&args.ratings, &args.links) {
                (Some(r), Some(l)) => CiaoInput {
                    ratings: r.clone(),
                    trust: l.clone(),
                    catalog: None,
                },
                _ => {
                    let mut i = CiaoInput::from_dir(&args.input)?;
                    if let Some(r) = &args.ratings {
                        i.ratings = r.clone();
                    }
                    if let Some(l) = &args.links {
                        i.trust = l.clone();
                    }
                    i
                }
            };
            import_ciao_with_progress(&input, &opts, &bars)?
        }
        Format::Lastfm => {
            import_lastfm_with_progress(&LastfmInput::from_dir(&args.input)?, &opts, &bars)?
        }
        Format::Snap => import_snap(&args.input)?,
    };
    bars.clear();
    eprintln!("{report}");
    write_world_with_progress(&world, &args.out, &WriteOptions { gzip: args.gzip }, &bars)
        .with_context(|| format!("writing the world to {}", args.out.display()))?;
    let (_, load) = read_world_with_progress(&args.out, &ReadOptions::default(), &bars)
        .with_context(|| format!("re-reading {}", args.out.display()))?;
    drop(bars);
    eprintln!("{load}");
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
