//! The per-tenant profile through the CLI (issue 11 §2): `tenant set --profile strict`
//! makes the next request of that tenant follow the interop profile on the real binary,
//! `tenant list` (text and `--json`) shows it, another tenant keeps the lenient default,
//! `--profile lenient` switches back, and a bad value or tenant is a one-line error.

use crate::harness::{Backend, Server, cli, cli_output};
use serde_json::{Value, json};

#[test]
fn tenant_set_profile_through_the_cli() {
    let Some(s) = Server::start(Backend::Sqlite) else {
        return;
    };
    let strict = s.tenant("Strict Co");
    let lenient = s.tenant("Lenient Co");
    let run = |args: &[&str]| -> Value {
        let out = cli(&s.db.url, &s.public_url, args);
        serde_json::from_str(out.trim()).unwrap()
    };
    let v = run(&[
        "tenant",
        "set",
        "--tenant",
        &strict.id,
        "--profile",
        "strict",
        "--json",
    ]);
    assert_eq!(v["profile"], "strict", "{v}");
    assert_eq!(v["id"], strict.id.as_str());
    let list = run(&["tenant", "list", "--json"]);
    let row = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(row(&strict.id)["profile"], "strict");
    assert_eq!(row(&lenient.id)["profile"], "lenient");
    let text = cli(&s.db.url, &s.public_url, &["tenant", "list"]);
    assert!(text.contains("strict profile"), "{text}");
    assert!(text.contains("lenient profile"), "{text}");

    // The running server follows it from the next request.
    for (t, claim) in [(&strict, true), (&lenient, false)] {
        let spc = s.call(t, "GET", "/ServiceProviderConfig", None).expect(200);
        assert_eq!(spc["interopProfileConformant"], claim);
    }
    let okta = json!({"userName": "ada@profile.test", "active": true});
    s.call(&strict, "POST", "/Users", Some(&okta))
        .expect_error(400);
    s.call(&lenient, "POST", "/Users", Some(&okta)).expect(201);
    let v = run(&[
        "tenant",
        "set",
        "--tenant",
        &strict.id,
        "--profile",
        "lenient",
        "--json",
    ]);
    assert_eq!(v["profile"], "lenient");
    s.call(&strict, "POST", "/Users", Some(&okta)).expect(201);

    for args in [
        &["tenant", "set", "--tenant", "nope", "--profile", "strict"][..],
        &[
            "tenant",
            "set",
            "--tenant",
            &strict.id,
            "--profile",
            "relaxed",
        ][..],
    ] {
        let out = cli_output(&s.db.url, &s.public_url, args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.trim().is_empty(), "{args:?}");
    }
    let out = cli_output(
        &s.db.url,
        &s.public_url,
        &["tenant", "set", "--tenant", "nope", "--profile", "strict"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no organization with id 'nope'"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
