//! `seed`: fills a database for a benchmark through the store, in batches, never over
//! HTTP. Creates a tenant and its token (as `scim-server token generate` does), N users
//! (`user{i}@example.com`), optional spare users (`spare{j}@example.com`, in no group),
//! and G groups, the first ones with the requested numbers of members (users 0..M).
//!
//! Prints one JSON line on stdout; with `--out DIR` it also writes the files the bench
//! scripts read: `ids.txt` (an evenly spaced sample of user ids), `spare_ids.txt`, `tail_ids.txt`, and
//! `groups.txt` (`<group id> <member count>` per line).

use anyhow::{Context as _, bail};
use clap::Parser;
use scim_bench::seed::{
    BATCH, attributes, create_batch, group_body, spare_user_name, user_body, user_name,
};
use scim_core::ResourceKind;
use scim_store::{Actor, DieselStore, StoreConfig, TenantRepo as _};
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "Seeds a benchmark tenant through the store (batched, not over HTTP)")]
struct Args {
    /// The database (same URL forms as scim-server's --database-url).
    #[arg(long, env = "SCIM_DATABASE_URL")]
    database_url: String,
    /// Number of users.
    #[arg(long, default_value_t = 1000)]
    users: u64,
    /// Extra users in no group (for membership PATCHes that add new members).
    #[arg(long, default_value_t = 0)]
    spare_users: u64,
    /// Number of groups.
    #[arg(long, default_value_t = 0)]
    groups: u64,
    /// Members of the first groups, comma-separated (`1000,100000`: group 0 gets users
    /// 0..1000, group 1 users 0..100000); the other groups are empty.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    group_members: Vec<u64>,
    /// The tenant's name.
    #[arg(long, default_value = "Bench")]
    tenant_name: String,
    /// Directory for ids.txt, spare_ids.txt, tail_ids.txt and groups.txt.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the ids of the last K users to tail_ids.txt (for membership PATCHes: keep
    /// the groups' members below N - K so these are in no group).
    #[arg(long, default_value_t = 0)]
    tail: u64,
    /// At most this many user ids in ids.txt (evenly spaced over all users).
    #[arg(long, default_value_t = 100_000)]
    sample: u64,
    /// Concurrent writers (default: 1 on SQLite, which has one writer anyway; 4 on PostgreSQL).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let postgres = args.database_url.starts_with("postgres");
    let threads = args.threads.unwrap_or(if postgres { 4 } else { 1 }).max(1);
    let mut config = StoreConfig::new(seeding_url(&args.database_url));
    config.pool_size = u32::try_from(threads + 1).unwrap_or(8);
    let store = Arc::new(DieselStore::open(&config).context("cannot open the database")?);

    let tenant = store
        .create_tenant(&args.tenant_name)
        .context("cannot create the tenant")?;
    let token = scim_http::generate_token(store.as_ref(), &tenant.id)
        .context("cannot generate the token")?;
    let actor = Actor {
        token_id: Some(token.token_id.clone()),
        ..Default::default()
    };

    let started = Instant::now();
    let ids = create_users(&store, &actor, &tenant.id, args.users, threads, user_name)?;
    let user_secs = started.elapsed().as_secs_f64();
    let spare = create_users(
        &store,
        &actor,
        &tenant.id,
        args.spare_users,
        threads,
        spare_user_name,
    )?;
    eprintln!(
        "seed: {} users in {user_secs:.1} s = {:.0} users/s ({threads} writer(s), batches of {BATCH})",
        ids.len(),
        ids.len() as f64 / user_secs.max(1e-9)
    );

    let group_started = Instant::now();
    let mut groups: Vec<(String, usize)> = Vec::new();
    for k in 0..args.groups {
        let wanted = args
            .group_members
            .get(usize::try_from(k).unwrap_or(usize::MAX))
            .copied()
            .unwrap_or(0);
        let m = usize::try_from(wanted).unwrap_or(usize::MAX).min(ids.len());
        if (m as u64) < wanted {
            bail!(
                "group {k} asks for {wanted} members but only {} users are seeded",
                ids.len()
            );
        }
        let name = format!("Bench Group {k:03}");
        let attrs = attributes(ResourceKind::Group, &group_body(&name, &ids[..m]))?;
        let id = create_batch(
            store.as_ref(),
            &actor,
            &tenant.id,
            ResourceKind::Group,
            vec![attrs],
        )?
        .pop()
        .context("the store returned no group id")?;
        groups.push((id, m));
    }
    if args.groups > 0 {
        eprintln!(
            "seed: {} groups in {:.1} s",
            groups.len(),
            group_started.elapsed().as_secs_f64()
        );
    }

    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let step = (ids.len() as u64).div_ceil(args.sample.max(1)).max(1);
        let sample: Vec<&str> = ids
            .iter()
            .step_by(usize::try_from(step).unwrap_or(1))
            .map(String::as_str)
            .collect();
        write_lines(&dir.join("ids.txt"), sample.iter().copied())?;
        write_lines(&dir.join("spare_ids.txt"), spare.iter().map(String::as_str))?;
        let tail = ids
            .len()
            .saturating_sub(usize::try_from(args.tail).unwrap_or(usize::MAX));
        write_lines(
            &dir.join("tail_ids.txt"),
            ids[tail..].iter().map(String::as_str),
        )?;
        let lines: Vec<String> = groups.iter().map(|(id, m)| format!("{id} {m}")).collect();
        write_lines(&dir.join("groups.txt"), lines.iter().map(String::as_str))?;
    }

    let total_secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "tenant_id": tenant.id,
            "token": token.token,
            "users": ids.len(),
            "spare_users": spare.len(),
            "user_ids_sample": ids.iter().take(10).collect::<Vec<_>>(),
            "group_ids": groups.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            "group_members": groups.iter().map(|(_, m)| m).collect::<Vec<_>>(),
            "user_seconds": user_secs,
            "users_per_second": ids.len() as f64 / user_secs.max(1e-9),
            "total_seconds": total_secs,
        })
    );
    Ok(())
}

/// Creates `n` users named by `name(i)` with `threads` writers taking batches of
/// [`BATCH`] in turn; returns their ids in index order.
fn create_users(
    store: &Arc<DieselStore>,
    actor: &Actor,
    tenant_id: &str,
    n: u64,
    threads: usize,
    name: fn(u64) -> String,
) -> anyhow::Result<Vec<String>> {
    let batches = usize::try_from(n.div_ceil(BATCH as u64)).context("too many users")?;
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Vec<String>>>> = Mutex::new(vec![None; batches]);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        if b >= batches {
                            return Ok(());
                        }
                        let lo = b as u64 * BATCH as u64;
                        let hi = (lo + BATCH as u64).min(n);
                        let batch = (lo..hi)
                            .map(|i| attributes(ResourceKind::User, &user_body(i, &name(i))))
                            .collect::<Result<Vec<_>, _>>()?;
                        let ids = create_batch(
                            store.as_ref(),
                            actor,
                            tenant_id,
                            ResourceKind::User,
                            batch,
                        )
                        .with_context(|| format!("cannot create users {lo}..{hi}"))?;
                        let mut slots = done
                            .lock()
                            .map_err(|_| anyhow::anyhow!("a seeding thread failed"))?;
                        slots[b] = Some(ids);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a seeding thread panicked"))??;
        }
        Ok(())
    })?;
    let slots = done
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a seeding thread failed"))?;
    let mut ids = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for s in slots {
        ids.extend(s.context("a batch was not created")?);
    }
    Ok(ids)
}

/// The URL the seeder connects with: on PostgreSQL, commits do not wait for the WAL flush
/// (`synchronous_commit=off`, this session only: a crash could lose the last few
/// batches of a benchmark seed, never corrupt it); the server later runs with the
/// database's defaults.
fn seeding_url(url: &str) -> String {
    if !url.starts_with("postgres") || url.contains("options=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20synchronous_commit%3Doff")
}

fn write_lines<'a>(
    path: &std::path::Path,
    lines: impl Iterator<Item = &'a str>,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    for l in lines {
        writeln!(w, "{l}")?;
    }
    w.flush()?;
    Ok(())
}
