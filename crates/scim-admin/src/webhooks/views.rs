//! The HTML of the Webhooks pages (the list with the add form, a subscription's page with
//! its forms and delivery log, the one-time secret page) and the Activity page's delivery
//! state. Views get plain data and return markup; they never touch the store.

use super::service::{Listed, backlog};
use crate::session::Principal;
use crate::views::{Tab, csrf_field, enc, layout, org_path, shown_once, when};
use maud::{Markup, html};
use scim_core::events::{EventMode, EventType};
use scim_store::{DeliveryAttempt, DeliveryOutcome, Subscription, Tenant};

pub(crate) fn hooks_path(t: &Tenant) -> String {
    format!("{}/webhooks", org_path(&t.id))
}

pub(crate) fn hook_path(t: &Tenant, id: &str) -> String {
    format!("{}/webhooks/{}", org_path(&t.id), enc(id))
}

/// What the filter lets through, in words.
fn filter_text(events: Option<&[EventType]>) -> String {
    match events {
        None => "All events".into(),
        Some(list) => list.iter().map(|t| t.name()).collect::<Vec<_>>().join(", "),
    }
}

/// Active, failing since …, or disabled: reason.
fn state_badge(s: &Subscription) -> Markup {
    html! {
        @if !s.enabled {
            span.badge.off { "Disabled" }
            " " (s.disabled_reason.as_deref().unwrap_or("by an admin"))
        } @else if let Some(since) = &s.failing_since {
            span.badge.warn { "Failing" }
            " since " (when(since))
            @if let Some(e) = &s.last_error { ": " (e) }
        } @else {
            span.badge.ok { "Active" }
        }
    }
}

/// The event-type checkboxes of the add and edit forms (none ticked: every type).
fn event_choices(id_prefix: &str, chosen: Option<&[EventType]>) -> Markup {
    html! {
        fieldset.choices {
            legend { "Events" }
            p.hint { "Tick the event types to send; leave all unticked to send every type." }
            @for t in EventType::ALL {
                @let id = format!("{id_prefix}-{}", t.name().replace(':', "-"));
                label.check for=(id) {
                    input #(id) type="checkbox" name="events" value=(t.name()) checked[chosen.is_some_and(|c| c.contains(&t))];
                    " " code { (t.name()) }
                }
            }
        }
    }
}

fn mode_select(id: &str, mode: EventMode) -> Markup {
    html! {
        label for=(id) { "Mode" }
        p.hint { "Full: each event carries the resource after the change. Notice: only the names of the changed attributes." }
        select #(id) name="mode" {
            @for m in [EventMode::Full, EventMode::Notice] {
                option value=(m.as_str()) selected[m == mode] { (m.as_str()) }
            }
        }
    }
}

/// The Webhooks page: the organization's subscriptions and the add form.
pub(crate) fn list(
    who: &Principal,
    t: &Tenant,
    subs: &[Subscription],
    newest: i64,
    error: Option<&str>,
) -> Markup {
    let csrf = who.csrf.as_deref().unwrap_or_default();
    layout(
        "Webhooks",
        Some(who),
        Some((t, Tab::Webhooks)),
        html! {
            h2 { "Webhooks" }
            p.hint { "Every change your identity provider makes is an event (RFC 9967 Security Event Token). Subscriptions receive them as signed webhooks (RFC 8935) or on a NATS JetStream subject, in order, at least once." }
            @if let Some(e) = error { p.notice.error role="alert" { (e) } }
            p { "Newest event position: " strong #newest { (newest) } }
            @if subs.is_empty() {
                p #no-webhooks { "No subscriptions yet." }
            } @else {
                div.tablewrap { table #webhooks {
                    thead { tr { th scope="col" { "Target" } th scope="col" { "Mode" } th.opt scope="col" { "Events" } th scope="col" { "State" } th scope="col" { "Backlog" } } }
                    tbody {
                        @for s in subs {
                            tr {
                                td { a.mono href=(hook_path(t, &s.id)) { (s.sink.target()) } }
                                td { (s.mode.as_str()) }
                                td.opt { (filter_text(s.events.as_deref())) }
                                td { (state_badge(s)) }
                                td { (backlog(s, newest)) span.hint { " (cursor " (s.cursor) ")" } }
                            }
                        }
                    }
                } }
            }
            section.card {
                h2 { "Add a subscription" }
                form method="post" action=(hooks_path(t)) {
                    (csrf_field(csrf))
                    label for="url" { "Target" }
                    p.hint #urlhint { "An " code { "https://" } " URL that accepts RFC 8935 pushes, or " code { "nats:<subject>" } " for a NATS JetStream subject. Events committed from now on are sent." }
                    input #url type="text" name="url" maxlength="2000" aria-describedby="urlhint" required;
                    (mode_select("mode", EventMode::Full))
                    (event_choices("new", None))
                    p { button type="submit" { "Add subscription" } }
                }
            }
        },
    )
}

/// A secret just created or rotated, shown once.
pub(crate) struct FreshSecret<'a> {
    pub secret: &'a str,
    pub rotated: bool,
}

/// The outcome of "Send test event".
pub(crate) enum TestResult<'a> {
    /// The attempt as recorded.
    Sent(&'a DeliveryAttempt),
    /// Why it could not be sent from this process.
    Unavailable(&'a str),
}

/// One subscription: facts, notices, its forms, and a page of its delivery log.
pub(crate) struct Detail<'a> {
    pub listed: &'a Listed,
    pub deliveries: &'a [DeliveryAttempt],
    pub page_size: u64,
    pub fresh: Option<FreshSecret<'a>>,
    pub test: Option<TestResult<'a>>,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

fn secret_notice(f: &FreshSecret<'_>) -> Markup {
    html! {
        div.notice.success role="status" {
            p { strong { @if f.rotated { "New signing secret generated." } @else { "Subscription added." } }
                " Copy the signing secret into your receiver now: it is shown only this once and cannot be shown again." }
            @if f.rotated { p { "The previous secret has stopped working: events are signed with the new one from now on." } }
        }
        (shown_once("signing-secret", "Signing secret", "Verify each event as an HS256 JWS with this secret (any JWT library).", f.secret))
    }
}

fn test_notice(r: &TestResult<'_>) -> Markup {
    html! {
        @match r {
            TestResult::Unavailable(msg) => p.notice.error role="alert" #test-result { (msg) },
            TestResult::Sent(a) => {
                @if a.outcome == DeliveryOutcome::Delivered {
                    p.notice.success role="status" #test-result {
                        "Test event delivered"
                        @if let Some(c) = a.status_code { " (HTTP " (c) ")" }
                        " in " (a.duration_ms) " ms."
                    }
                } @else {
                    p.notice.error role="alert" #test-result {
                        "Test event failed: " (a.error.as_deref().unwrap_or("no answer"))
                        @if let Some(c) = a.status_code { " (HTTP " (c) ")" }
                        "."
                    }
                }
            }
        }
    }
}

fn deliveries_table(t: &Tenant, s: &Subscription, rows: &[DeliveryAttempt], csrf: &str) -> Markup {
    html! {
        div.tablewrap { table #deliveries {
            thead { tr {
                th scope="col" { "Event" } th scope="col" { "Attempt" } th scope="col" { "Time" }
                th scope="col" { "Outcome" } th.opt scope="col" { "Status" } th scope="col" { "Error" }
                th.opt scope="col" { "Next try" } th scope="col" { span.visually-hidden { "Actions" } }
            } }
            tbody {
                @for a in rows {
                    tr {
                        td {
                            @if a.position == 0 { "test event" } @else { (a.position) " " code { (a.event_type.map_or(scim_store::TEST_EVENT_NAME, scim_core::events::EventType::name)) } }
                        }
                        td { (a.attempt) @if a.redelivery && a.position > 0 { " (redelivery)" } }
                        td { (when(&a.at)) }
                        td { @match a.outcome {
                            DeliveryOutcome::Delivered => span.badge.ok { "delivered" },
                            DeliveryOutcome::Failed => span.badge.off { "failed" },
                        } }
                        td.opt { @if let Some(c) = a.status_code { (c) } }
                        td { (a.error.as_deref().unwrap_or("")) }
                        td.opt { @if let Some(n) = &a.next_try { (when(n)) } }
                        td {
                            @if a.position > 0 {
                                form.inline method="post" action={ (hook_path(t, &s.id)) "/deliveries/" (a.position) "/redeliver" } {
                                    (csrf_field(csrf))
                                    button.secondary type="submit" aria-label={ "Redeliver event " (a.position) } { "Redeliver" }
                                }
                            }
                        }
                    }
                }
            }
        } }
    }
}

/// A subscription's page.
pub(crate) fn detail(who: &Principal, t: &Tenant, d: &Detail<'_>) -> Markup {
    let csrf = who.csrf.as_deref().unwrap_or_default();
    let s = &d.listed.subscription;
    let base = hook_path(t, &s.id);
    let rotate_confirm = "Rotating the secret makes the current one stop working at once: your receiver rejects events until it has the new secret. Continue?";
    layout(
        "Webhook",
        Some(who),
        Some((t, Tab::Webhooks)),
        html! {
            p.crumbs { a href=(hooks_path(t)) { "Webhooks" } " › " span.mono { (s.sink.target()) } }
            h2.mono { (s.sink.target()) }
            @if let Some(e) = d.error { p.notice.error role="alert" { (e) } }
            @if let Some(n) = d.notice { p.notice.success role="status" #notice { (n) } }
            @if let Some(f) = &d.fresh { section.card { (secret_notice(f)) } }
            @if let Some(r) = &d.test { (test_notice(r)) }
            dl.facts.card #facts {
                dt { "State" } dd #state { (state_badge(s)) }
                dt { "Mode" } dd { (s.mode.as_str()) }
                dt { "Events" } dd { (filter_text(s.events.as_deref())) }
                dt { "Cursor" } dd { (s.cursor) " of " (d.listed.newest) " (backlog " span #backlog { (d.listed.backlog()) } ")" }
                dt { "Failed attempts" } dd { (s.attempts) }
                dt { "Next attempt" } dd { @match &s.next_attempt { Some(n) => (when(n)), None => "when there is work" } }
                dt { "Last error" } dd { (s.last_error.as_deref().unwrap_or("none")) }
                dt { "Created" } dd { (when(&s.created)) }
                dt { "Id" } dd.mono { (s.id) }
            }
            div.row {
                form.inline method="post" action={ (base) "/test" } {
                    (csrf_field(csrf))
                    button #send-test type="submit" { "Send test event" }
                }
                form.inline method="post" action={ (base) "/rotate-secret" } data-confirm=(rotate_confirm) {
                    (csrf_field(csrf))
                    button.secondary #rotate type="submit" { "Rotate secret" }
                }
            }
            h2 { "Delivery log" }
            @if d.deliveries.is_empty() { p #no-deliveries { "No delivery attempts yet." } } @else {
                (deliveries_table(t, s, d.deliveries, csrf))
                @if d.deliveries.len() as u64 >= d.page_size {
                    @if let Some(last) = d.deliveries.last() {
                        nav.pager aria-label="Pages" {
                            a.button.secondary rel="next" href={ (base) "?before=" (last.id) } { "Older attempts" }
                        }
                    }
                }
            }
            section.card {
                h2 { "Replay from cursor" }
                p.hint #replayhint { "Delivery restarts with the first event after this cursor (0 replays every event still kept). The receiver sees events again: it should de-duplicate on jti." }
                form method="post" action={ (base) "/replay" } {
                    (csrf_field(csrf))
                    label for="after" { "After cursor" }
                    input #after type="text" name="after" inputmode="numeric" pattern="[0-9]+" value=(s.cursor) aria-describedby="replayhint" required;
                    p { button.secondary type="submit" { "Replay" } }
                }
            }
            section.card {
                h2 { "Edit" }
                form method="post" action=(base) {
                    (csrf_field(csrf))
                    label for="url" { "Target" }
                    input #url type="text" name="url" maxlength="2000" value=(s.sink.target()) required;
                    (mode_select("mode", s.mode))
                    (event_choices("edit", s.events.as_deref()))
                    label.check for="enabled" {
                        input #enabled type="checkbox" name="enabled" value="yes" checked[s.enabled];
                        " Enabled (enabling clears the failure state and retries at once)"
                    }
                    p { button type="submit" { "Save" } }
                }
            }
            section.card {
                h2 { "Remove" }
                form method="post" action={ (base) "/delete" } data-confirm="Remove this subscription and its delivery log?" {
                    (csrf_field(csrf))
                    p { label.check { input type="checkbox" name="confirm" value="yes" required; " I understand that this subscription and its delivery log are removed for good." } }
                    button.danger #remove type="submit" { "Remove subscription" }
                }
            }
        },
    )
}

/// The Activity page's delivery state of one log entry: for each enabled subscription,
/// delivered (its cursor reached the entry's last event; events its filter skips count),
/// failing, or pending; "no subscribers" when there is none.
pub(crate) fn delivery_state(events: Option<(i64, i64)>, subs: &[Subscription]) -> Markup {
    let enabled: Vec<&Subscription> = subs.iter().filter(|s| s.enabled).collect();
    html! {
        @match events {
            None => span.hint { "no events" },
            Some(_) if enabled.is_empty() => span.hint { "no subscribers" },
            Some((_, last)) => {
                @for s in &enabled {
                    @let target = s.sink.target();
                    @if s.cursor >= last {
                        span.badge.ok title=(target) { "delivered" }
                    } @else if s.failing_since.is_some() {
                        span.badge.off title=(target) { "failing" }
                    } @else {
                        span.badge.neutral title=(target) { "pending" }
                    }
                    " "
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use scim_store::Sink;

    fn sub(cursor: i64, enabled: bool, failing: bool) -> Subscription {
        Subscription {
            id: "s".into(),
            tenant_id: "t".into(),
            sink: Sink::Webhook {
                url: "https://rx.test/h".into(),
            },
            mode: EventMode::Full,
            events: None,
            enabled,
            disabled_reason: None,
            secret_version: 1,
            created: Utc::now(),
            cursor,
            attempts: 0,
            failing_since: failing.then(Utc::now),
            next_attempt: None,
            last_error: None,
        }
    }

    #[test]
    fn delivery_states() {
        // (the entry's events, the subscriptions, what the cell says)
        type Case = (
            Option<(i64, i64)>,
            Vec<Subscription>,
            &'static [&'static str],
        );
        let cases: [Case; 6] = [
            (None, vec![sub(0, true, false)], &["no events"]),
            (Some((1, 2)), vec![], &["no subscribers"]),
            (
                Some((1, 2)),
                vec![sub(9, false, false)],
                &["no subscribers"],
            ),
            (Some((1, 2)), vec![sub(2, true, false)], &["delivered"]),
            (Some((1, 3)), vec![sub(2, true, false)], &["pending"]),
            (
                Some((1, 3)),
                vec![sub(2, true, true), sub(5, true, false)],
                &["failing", "delivered"],
            ),
        ];
        for (events, subs, want) in cases {
            let html = delivery_state(events, &subs).into_string();
            for w in want {
                assert!(html.contains(w), "{events:?}: {html}");
            }
            for other in [
                "delivered",
                "pending",
                "failing",
                "no subscribers",
                "no events",
            ] {
                if !want.contains(&other) {
                    assert!(!html.contains(other), "{events:?}: {html}");
                }
            }
        }
    }
}
