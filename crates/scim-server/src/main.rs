//! `scim-server`: the binary. Configuration, command line, logging and wiring of
//! `scim-store` and `scim-http`.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("the server is not wired yet; see issue 4")
}
