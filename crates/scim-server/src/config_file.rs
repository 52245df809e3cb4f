//! The configuration file (`--config PATH` / `SCIM_CONFIG`): a TOML table whose keys are
//! the options' names without dashes (`database_url`, `rate_limit_per_tenant`, ...).
//!
//! A file value becomes the option's *default*, so clap's own precedence does the rest: a
//! flag beats its environment variable, which beats the file, which beats the built-in
//! default. An unknown key, a table or an array is an error naming the key, so a typo never
//! silently does nothing. `config check` prints the effective values and where each came
//! from, secrets masked.

use crate::config::Cli;
use anyhow::Context as _;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The arguments that are not configuration (the file itself, help and version).
const NOT_CONFIGURABLE: &[&str] = &["config_file", "help", "version"];

/// The parsed command line, with the configuration file applied, and the option ids that
/// took their value from the file.
pub struct Parsed {
    /// The command line as the rest of the program uses it.
    pub cli: Cli,
    /// The matches, for `config check` (value sources).
    pub matches: ArgMatches,
    /// Option ids whose value came from the file.
    pub from_file: BTreeSet<String>,
}

/// `--config PATH` / `--config=PATH` among the raw arguments, else `SCIM_CONFIG`.
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let Some(s) = a.to_str() else { continue };
        if s == "--" {
            break;
        }
        if s == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("SCIM_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The file's `key = value` pairs as option id and string value.
fn read_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    table
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => anyhow::bail!(
                    "{}: '{key}' must be a string, number or boolean",
                    path.display()
                ),
            };
            Ok((key.replace('-', "_"), value))
        })
        .collect()
}

/// Parses the process's command line with the configuration file, if any, applied.
pub fn parse() -> anyhow::Result<Parsed> {
    let args: Vec<OsString> = std::env::args_os().collect();
    parse_from(args)
}

/// [`parse`] on given arguments (tests). Clap's own errors (usage, `--help`) exit the
/// process as `Cli::parse` would.
pub fn parse_from(args: Vec<OsString>) -> anyhow::Result<Parsed> {
    let mut command = Cli::command();
    let mut from_file = BTreeSet::new();
    if let Some(path) = config_path(&args) {
        let known: BTreeSet<String> = command
            .get_arguments()
            .map(|a| a.get_id().as_str().to_string())
            .filter(|id| !NOT_CONFIGURABLE.contains(&id.as_str()))
            .collect();
        for (key, value) in read_file(&path)? {
            if !known.contains(&key) {
                anyhow::bail!(
                    "{}: unknown option '{key}' (the options are: {})",
                    path.display(),
                    known.iter().cloned().collect::<Vec<_>>().join(", ")
                );
            }
            // Leaked once per key at start-up: clap keeps defaults as `'static` strings.
            let value: &'static str = Box::leak(value.into_boxed_str());
            command = command.mut_arg(key.as_str(), |a| a.default_value(value));
            from_file.insert(key);
        }
    }
    let matches = command.get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Parsed {
        cli,
        matches,
        from_file,
    })
}

/// Whether an option's value is a secret (printed masked).
fn is_secret(id: &str) -> bool {
    !id.ends_with("_file")
        && ["key", "secret", "token", "password"]
            .iter()
            .any(|word| id.contains(word))
}

/// `config check`: every option, its effective value and its source, secrets masked
/// (URLs keep everything but their password).
pub fn check(parsed: &Parsed) -> anyhow::Result<()> {
    let command = Cli::command();
    let mut rows = Vec::new();
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if NOT_CONFIGURABLE.contains(&id) && id != "config_file" {
            continue;
        }
        let value: Option<String> = parsed
            .matches
            .get_raw(id)
            .and_then(|mut v| v.next())
            .map(|v| v.to_string_lossy().into_owned());
        let source = match parsed.matches.value_source(id) {
            Some(ValueSource::CommandLine) => "flag",
            Some(ValueSource::EnvVariable) => "environment",
            Some(ValueSource::DefaultValue) if parsed.from_file.contains(id) => "file",
            Some(ValueSource::DefaultValue) => "default",
            _ => "unset",
        };
        let shown = match value {
            None => "(unset)".to_string(),
            Some(v) if id.ends_with("_url") => crate::commands::redact_url(&v),
            Some(_) if is_secret(id) => "***".to_string(),
            Some(v) => v,
        };
        rows.push((id.to_string(), shown, source));
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (id, value, source) in rows {
        println!("{id:width$} = {value}  ({source})");
    }
    // Every value has passed its option's parser by now (clap refuses a bad one with
    // exit code 2 before this runs).
    println!("configuration is valid");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_config_flag_is_found_in_both_spellings() {
        assert_eq!(
            config_path(&args(&["scim-server", "--config", "a.toml", "serve"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            config_path(&args(&["scim-server", "serve", "--config=b.toml"])),
            Some(PathBuf::from("b.toml"))
        );
    }

    #[test]
    fn secrets_are_recognised_by_name() {
        for id in ["token_signing_key", "event_signing_key"] {
            assert!(is_secret(id), "{id}");
        }
        for id in [
            "bind",
            "rate_limit_per_tenant",
            "log_level",
            "event_signing_key_file",
        ] {
            assert!(!is_secret(id), "{id}");
        }
    }
}
