//! The console's sign-in limits over HTTP: per client address (the 11th sign-in in a
//! minute gets 429, another address does not), `X-Forwarded-For` only with trusted proxy
//! hops, and the per-e-mail limit under parallel guesses (recorded before counted, so at
//! most 5 of 20 parallel wrong passwords are checked).

use crate::helpers::*;
use scim_admin::SignInConfig;

const OP: &str = "op@example.test";

fn config(rate_per_minute: u32, trusted_proxy_hops: usize) -> SignInConfig {
    SignInConfig {
        rate_per_minute,
        trusted_proxy_hops,
        concurrency: 8,
    }
}

#[actix_web::test]
async fn the_eleventh_sign_in_from_one_address_in_a_minute_gets_429() {
    let c = Console::new().with_sign_in(config(10, 0));
    c.account(OP, None);
    for i in 0..10 {
        let r = c
            .sign_in_from(&mut Client::default(), "192.0.2.10:5000", &[], OP, PASSWORD)
            .await;
        assert_eq!(r.status.as_u16(), 303, "sign-in {i}: {}", r.body);
    }
    let mut client = Client::default();
    let r = c
        .sign_in_from(&mut client, "192.0.2.10:5001", &[], OP, PASSWORD)
        .await;
    r.expect(429);
    let retry: u64 = r
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(
        r.body
            .contains("too many sign-in attempts from your network"),
        "{}",
        r.body
    );
    assert!(!client.cookies.contains_key("scim_admin_session"));
    // Another address, and another host of an IPv6 /64 versus its neighbour /64.
    c.sign_in_from(&mut Client::default(), "192.0.2.11:5000", &[], OP, PASSWORD)
        .await
        .expect(303);
    for _ in 0..10 {
        c.sign_in_from(
            &mut Client::default(),
            "[2001:db8:0:1::1]:5000",
            &[],
            OP,
            PASSWORD,
        )
        .await
        .expect(303);
    }
    c.sign_in_from(
        &mut Client::default(),
        "[2001:db8:0:1::2]:5000",
        &[],
        OP,
        PASSWORD,
    )
    .await
    .expect(429);
    c.sign_in_from(
        &mut Client::default(),
        "[2001:db8:0:2::1]:5000",
        &[],
        OP,
        PASSWORD,
    )
    .await
    .expect(303);
    // A wrong password counts the same (the limit is in front of argon2).
    let d = Console::new().with_sign_in(config(3, 0));
    d.account(OP, None);
    for _ in 0..3 {
        d.sign_in_from(
            &mut Client::default(),
            "192.0.2.10:1",
            &[],
            "x@y.test",
            "wrong",
        )
        .await
        .expect(401);
    }
    d.sign_in_from(&mut Client::default(), "192.0.2.10:1", &[], OP, PASSWORD)
        .await
        .expect(429);
}

#[actix_web::test]
async fn forwarded_for_is_ignored_without_trusted_hops_and_honoured_with_one() {
    // No trusted proxy: a client writing a new X-Forwarded-For each time is still one
    // client.
    let c = Console::new().with_sign_in(config(3, 0));
    c.account(OP, None);
    for i in 0..3 {
        let xff = format!("198.51.100.{i}");
        c.sign_in_from(
            &mut Client::default(),
            "192.0.2.10:1",
            &[("X-Forwarded-For", &xff)],
            OP,
            PASSWORD,
        )
        .await
        .expect(303);
    }
    c.sign_in_from(
        &mut Client::default(),
        "192.0.2.10:1",
        &[("X-Forwarded-For", "198.51.100.99")],
        OP,
        PASSWORD,
    )
    .await
    .expect(429);

    // One trusted proxy (every request comes from its address): the right-most entry is
    // the client; what the client wrote to its left changes nothing.
    let c = Console::new().with_sign_in(config(3, 1));
    c.account(OP, None);
    for i in 0..3 {
        let xff = format!("6.6.6.{i}, 203.0.113.7");
        c.sign_in_from(
            &mut Client::default(),
            "10.0.0.1:1",
            &[("X-Forwarded-For", &xff)],
            OP,
            PASSWORD,
        )
        .await
        .expect(303);
    }
    c.sign_in_from(
        &mut Client::default(),
        "10.0.0.1:1",
        &[("X-Forwarded-For", "7.7.7.7, 203.0.113.7")],
        OP,
        PASSWORD,
    )
    .await
    .expect(429);
    // Another client behind the same proxy is not affected.
    c.sign_in_from(
        &mut Client::default(),
        "10.0.0.1:1",
        &[("X-Forwarded-For", "203.0.113.8")],
        OP,
        PASSWORD,
    )
    .await
    .expect(303);
}

#[actix_web::test]
async fn parallel_wrong_passwords_never_pass_the_per_address_limit() {
    for backend in backends() {
        // No per-client limit here: the guesses come from many addresses.
        let c = Console::on(backend).with_sign_in(config(0, 0));
        c.account(OP, None);
        let mut clients: Vec<Client> = (0..20).map(|_| Client::default()).collect();
        let peers: Vec<String> = (0..20).map(|i| format!("192.0.2.{}:1", i + 1)).collect();
        let guesses = clients
            .iter_mut()
            .zip(&peers)
            .map(|(client, peer)| c.sign_in_from(client, peer, &[], OP, "wrong password!!"));
        let statuses: Vec<u16> = futures_util::future::join_all(guesses)
            .await
            .iter()
            .map(|r| r.status.as_u16())
            .collect();
        let wrong = statuses.iter().filter(|s| **s == 401).count();
        let limited = statuses.iter().filter(|s| **s == 429).count();
        assert!(
            (1..=5).contains(&wrong) && wrong + limited == 20,
            "[{backend:?}] {statuses:?}"
        );
        // The address is locked now, even for the right password.
        c.sign_in_from(&mut Client::default(), "192.0.2.99:1", &[], OP, PASSWORD)
            .await
            .expect(429);
    }
}

#[actix_web::test]
async fn a_sign_in_or_set_up_without_an_argon2_permit_gets_503() {
    let c = Console::new().with_sign_in(SignInConfig {
        rate_per_minute: 0,
        trusted_proxy_hops: 0,
        concurrency: 1,
    });
    let link = scim_admin::prepare_setup_link(c.store(), PUBLIC)
        .unwrap()
        .unwrap();
    let path = link.strip_prefix(PUBLIC).unwrap().to_string();
    let code = path.split("code=").nth(1).unwrap().to_string();
    // Every permit is taken (a hash in progress): the set-up waits its 2 s, then 503.
    let held = c.admin.gate().hash_permit().await.unwrap();
    let mut anon = Client::default();
    let form = c.get(&mut anon, &path).await;
    let ft = hidden(&form.body, "form_token").unwrap();
    let setup = [
        ("form_token", ft.as_str()),
        ("code", code.as_str()),
        ("email", OP),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    let r = c.post_form(&mut anon, "/admin/setup", &setup).await;
    r.expect(503);
    assert!(r.headers.contains_key("retry-after"));
    assert!(r.body.contains("busy"), "{}", r.body);
    assert_eq!(c.store().count_admins().unwrap(), 0);
    // So does a sign-in.
    drop(held);
    c.post_form(&mut anon, "/admin/setup", &setup)
        .await
        .expect(303);
    let held = c.admin.gate().hash_permit().await.unwrap();
    let mut clients: Vec<Client> = (0..6).map(|_| Client::default()).collect();
    let waits = clients
        .iter_mut()
        .map(|client| c.sign_in_from(client, "192.0.2.1:1", &[], OP, PASSWORD));
    let mut busy = 0;
    for r in futures_util::future::join_all(waits).await {
        // Attempts waiting for a permit count while they wait: the sixth is over the
        // address's limit at once.
        if r.status.as_u16() == 503 {
            assert_eq!(r.headers.get("retry-after").unwrap(), "2");
            busy += 1;
        } else {
            r.expect(429);
        }
    }
    assert_eq!(busy, 5);
    // None of them checked a password, so none is held against the address afterwards
    // (five kept attempts would make the next one the sixth: 429).
    drop(held);
    c.sign_in_from(&mut Client::default(), "192.0.2.1:1", &[], OP, PASSWORD)
        .await
        .expect(303);
}
