//! Writing a world directory: `world.toml`, `users.tsv`, `friendships.tsv`, `stories.tsv`,
//! `events.tsv`, and when present `interactions.tsv` and `truth.tsv` (see the README's
//! "World format"). Every file is written atomically; with `gzip` the TSV files are written
//! as `<name>.tsv.gz` (deterministic bytes: no timestamp in the gzip header).

use crate::io::atomic::AtomicFile;
use crate::io::IoError;
use crate::util::progress::{Progress, Silent};
use crate::world::World;
use std::io::Write;
use std::path::Path;

/// How to write a world.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Write `*.tsv.gz` instead of `*.tsv`.
    pub gzip: bool,
}

fn write_table(
    dir: &Path,
    name: &str,
    opts: &WriteOptions,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), IoError> {
    let file_name = if opts.gzip {
        format!("{name}.gz")
    } else {
        name.to_string()
    };
    // Remove the other variant so that a directory never holds both.
    let other = if opts.gzip {
        dir.join(name)
    } else {
        dir.join(format!("{name}.gz"))
    };
    if other.exists() {
        std::fs::remove_file(&other).map_err(|source| IoError::Write {
            path: other.clone(),
            source,
        })?;
    }
    let mut f = AtomicFile::create(dir.join(file_name))?;
    let result = if opts.gzip {
        let mut enc = flate2::GzBuilder::new()
            .mtime(0)
            .write(f.writer(), flate2::Compression::new(6));
        body(&mut enc).and_then(|_| enc.finish().map(|_| ()))
    } else {
        body(f.writer())
    };
    result.map_err(|e| f.err(e))?;
    f.commit()
}

/// Writes `world` into `dir` (created if needed).
///
/// # Errors
/// [`IoError::Write`] naming the file on any failure; files already written stay complete.
pub fn write_world(world: &World, dir: &Path, opts: &WriteOptions) -> Result<(), IoError> {
    write_world_with_progress(world, dir, opts, &Silent)
}

/// As [`write_world`], reporting the step "writing the world" to `progress`: one unit per
/// row written (users, friendships, stories, events, interactions, truth), each table's
/// advanced once it is written.
///
/// # Errors
/// As [`write_world`].
pub fn write_world_with_progress(
    world: &World,
    dir: &Path,
    opts: &WriteOptions,
    progress: &dyn Progress,
) -> Result<(), IoError> {
    let rows = [
        world.users.len(),
        world.graph.num_edges(),
        world.stories.len(),
        world.events.len(),
        world.interactions.len(),
        world.truth.len(),
    ];
    progress.step("writing the world", rows.iter().sum::<usize>() as u64);
    let done = |table: usize| progress.advance(rows[table] as u64);
    std::fs::create_dir_all(dir).map_err(|source| IoError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let toml = toml::to_string(&world.meta).map_err(|e| IoError::Write {
        path: dir.join("world.toml"),
        source: std::io::Error::other(e.to_string()),
    })?;
    crate::io::atomic::write_atomic(dir.join("world.toml"), toml.as_bytes())?;

    let users = &world.users;
    write_table(dir, "users.tsv", opts, |w| {
        writeln!(w, "user_id")?;
        for name in users.names() {
            writeln!(w, "{name}")?;
        }
        Ok(())
    })?;
    done(0);

    let g = &world.graph;
    write_table(dir, "friendships.tsv", opts, |w| {
        writeln!(w, "user_a\tuser_b")?;
        for u in 0..g.num_nodes() as u32 {
            for &v in g.neighbors(u) {
                if u < v {
                    writeln!(w, "{}\t{}", users.name(u), users.name(v))?;
                }
            }
        }
        Ok(())
    })?;
    done(1);

    let has_topic = world.stories.iter().any(|s| s.topic.is_some());
    write_table(dir, "stories.tsv", opts, |w| {
        if has_topic {
            writeln!(w, "story_id\tauthor_id\tcreated_at\tkind\ttopic")?;
        } else {
            writeln!(w, "story_id\tauthor_id\tcreated_at\tkind")?;
        }
        for (i, s) in world.stories.iter().enumerate() {
            write!(
                w,
                "{}\t{}\t{}\t{}",
                world.story_ids.name(i as u32),
                users.name(s.author),
                s.created_at,
                world.kinds.name(s.kind)
            )?;
            if has_topic {
                let topic = s.topic.map(|t| world.topics.name(t)).unwrap_or("");
                write!(w, "\t{topic}")?;
            }
            writeln!(w)?;
        }
        Ok(())
    })?;
    done(2);

    write_table(dir, "events.tsv", opts, |w| {
        writeln!(w, "user_id\tstory_id\taction\tts")?;
        for e in &world.events {
            writeln!(
                w,
                "{}\t{}\t{}\t{}",
                users.name(e.user),
                world.story_ids.name(e.story),
                e.action.as_str(),
                e.ts
            )?;
        }
        Ok(())
    })?;
    done(3);

    if !world.interactions.is_empty() {
        write_table(dir, "interactions.tsv", opts, |w| {
            writeln!(w, "from_user\tto_user\tkind\tts")?;
            for x in &world.interactions {
                writeln!(
                    w,
                    "{}\t{}\t{}\t{}",
                    users.name(x.from),
                    users.name(x.to),
                    world.interaction_kinds.name(x.kind),
                    x.ts
                )?;
            }
            Ok(())
        })?;
    }
    done(4);

    if !world.truth.is_empty() {
        write_table(dir, "truth.tsv", opts, |w| {
            writeln!(
                w,
                "user_id\tstory_id\tts\tp_click\tp_like\tp_comment\tp_share\tp_hide"
            )?;
            for t in &world.truth {
                writeln!(
                    w,
                    "{}\t{}\t{}\t{:.6}\t{:.6}\t{:.6}\t{:.6}\t{:.6}",
                    users.name(t.user),
                    world.story_ids.name(t.story),
                    t.ts,
                    t.p[0],
                    t.p[1],
                    t.p[2],
                    t.p[3],
                    t.p[4]
                )?;
            }
            Ok(())
        })?;
    }
    done(5);
    Ok(())
}
