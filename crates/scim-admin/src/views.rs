//! The HTML of the console's pages (maud templates, compiled into the binary): the frame,
//! sign-in, set-up, Organizations, Settings, Users and Groups; the provisioning log's are in
//! [`activity`](crate::activity), the Webhooks pages' in `webhooks::views`. Views get plain
//! data and return markup; they never touch the store.

use crate::activity::history;
use crate::session::Principal;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};
use scim_core::resource::Resource;
use scim_store::{LogEntry, Tenant};
use serde_json::Value;

/// The organization tab being shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Settings,
    Users,
    Groups,
    Activity,
    Requests,
    Webhooks,
    Schemas,
    Entitlements,
}

pub(crate) fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub(crate) fn org_path(tenant_id: &str) -> String {
    format!("/admin/organizations/{}", enc(tenant_id))
}

/// Percent-encodes a path segment or query value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// The page frame: header (with sign-out), optional organization tabs, main content.
pub(crate) fn layout(
    title: &str,
    who: Option<&Principal>,
    org: Option<(&Tenant, Tab)>,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · SCIM admin" }
                link rel="stylesheet" href="/admin/assets/admin.css";
                script src="/admin/assets/admin.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a href="/admin" { "SCIM admin" }
                    @if let Some(p) = who {
                        @if p.is_operator() {
                            a href="/admin/organizations" { "Organizations" }
                        }
                        div.who {
                            span { (p.account.email) @if p.is_operator() { " (operator)" } }
                            @if let Some(csrf) = &p.csrf {
                                form.inline method="post" action="/admin/sign-out" {
                                    (csrf_field(csrf))
                                    button type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                }
                main #main {
                    @if let Some((t, tab)) = org {
                        p.crumbs { a href="/admin/organizations" { "Organizations" } " › " (t.name) }
                        h1 { (t.name) }
                        nav.tabs aria-label="Organization" {
                            @for (label, suffix, this) in [("Settings › SAML/SCIM", "settings", Tab::Settings), ("Users", "users", Tab::Users), ("Groups", "groups", Tab::Groups), ("Activity", "activity", Tab::Activity), ("Requests", "requests", Tab::Requests), ("Webhooks", "webhooks", Tab::Webhooks), ("Schemas", "schemas", Tab::Schemas), ("Entitlements", "entitlements", Tab::Entitlements)] {
                                a href={ (org_path(&t.id)) "/" (suffix) } aria-current=[(tab == this).then_some("page")] { (label) }
                            }
                        }
                    }
                    (content)
                }
            }
        }
    }
}

pub(crate) fn error_page(status: u16, message: &str, signed_in: bool) -> Markup {
    layout(
        "Error",
        None,
        None,
        html! {
            div.card.narrow {
                h1 { @match status { 404 => "Not found", 403 => "Not allowed", 429 => "Too many attempts", 401 => "Sign-in required", 400 => "Check your input", 503 => "Not available here", _ => "Error" } }
                p { (message) }
                p { @if signed_in { a href="/admin" { "Back to the console" } } @else { a href="/admin/sign-in" { "Sign in" } } }
            }
        },
    )
}

pub(crate) fn sign_in(form_token: &str, email: &str, error: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        None,
        html! {
            div.card.narrow {
                h1 { "Sign in" }
                @if let Some(e) = error { p.notice.error role="alert" { (e) } }
                form method="post" action="/admin/sign-in" {
                    input type="hidden" name="form_token" value=(form_token);
                    label for="email" { "E-mail address" }
                    input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    p { button type="submit" { "Sign in" } }
                }
            }
        },
    )
}

pub(crate) fn setup(form_token: &str, code: &str, email: &str, error: Option<&str>) -> Markup {
    layout(
        "Set up",
        None,
        None,
        html! {
            div.card.narrow {
                h1 { "Create the first operator" }
                p.hint { "This one-time link creates the console's first account. Operators see and manage every organization." }
                @if let Some(e) = error { p.notice.error role="alert" { (e) } }
                form method="post" action="/admin/setup" {
                    input type="hidden" name="form_token" value=(form_token);
                    input type="hidden" name="code" value=(code);
                    label for="email" { "E-mail address" }
                    input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
                    label for="password" { "Password" }
                    p.hint #pwhint { "At least " (crate::accounts::MIN_PASSWORD_CHARS) " characters." }
                    input #password type="password" name="password" autocomplete="new-password" aria-describedby="pwhint" required;
                    label for="confirm" { "Repeat the password" }
                    input #confirm type="password" name="confirm" autocomplete="new-password" required;
                    p { button type="submit" { "Create operator" } }
                }
            }
        },
    )
}

fn token_status(t: &Tenant) -> Markup {
    html! {
        @match &t.token {
            None => span.badge.neutral { "No token yet" },
            Some(r) => span.badge.ok { "Token generated " (when(&r.generated)) },
        }
    }
}

pub(crate) fn organizations(
    who: &Principal,
    tenants: &[Tenant],
    tenant_url: &dyn Fn(&str) -> String,
    error: Option<&str>,
) -> Markup {
    layout(
        "Organizations",
        Some(who),
        None,
        html! {
            h1 { "Organizations" }
            @if let Some(e) = error { p.notice.error role="alert" { (e) } }
            @if tenants.is_empty() {
                p { "No organizations yet." }
            } @else {
                div.tablewrap { table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Tenant URL" } th scope="col" { "Secret token" } th.opt scope="col" { "Created" } } }
                    tbody {
                        @for t in tenants {
                            tr {
                                td { a href={ (org_path(&t.id)) "/settings" } { (t.name) } }
                                td.mono { (tenant_url(&t.id)) }
                                td { (token_status(t)) }
                                td.opt { (when(&t.created)) }
                            }
                        }
                    }
                } }
            }
            @if let (true, Some(csrf)) = (who.is_operator(), &who.csrf) {
                section.card {
                    h2 { "Create an organization" }
                    form method="post" action="/admin/organizations" {
                        (csrf_field(csrf))
                        label for="name" { "Name" }
                        input #name type="text" name="name" maxlength="200" required;
                        p { button type="submit" { "Create organization" } }
                    }
                }
            }
        },
    )
}

/// A secret shown once (a tenant token, a webhook signing secret): a read-only field with
/// a Copy button, `id` naming the field.
pub(crate) fn shown_once(id: &str, label: &str, hint: &str, value: &str) -> Markup {
    html! {
        label for=(id) { (label) }
        p.hint { (hint) }
        div.copyrow {
            input #(id) type="text" value=(value) readonly autocomplete="off" spellcheck="false";
            button.secondary type="button" data-copy=(id) hidden { "Copy" }
        }
    }
}

/// A token just generated, shown once.
pub(crate) struct FreshToken<'a> {
    pub token: &'a str,
    pub replaced: bool,
}

pub(crate) fn settings(
    who: &Principal,
    t: &Tenant,
    tenant_url: &str,
    fresh: Option<FreshToken<'_>>,
    error: Option<&str>,
) -> Markup {
    let csrf = who.csrf.as_deref().unwrap_or_default();
    let confirm = "Generating a new secret token makes the current token stop working at once: provisioning from your identity provider fails until you paste the new token there. Continue?";
    layout(
        "Settings › SAML/SCIM",
        Some(who),
        Some((t, Tab::Settings)),
        html! {
            h2 { "SAML/SCIM" }
            @if let Some(e) = error { p.notice.error role="alert" { (e) } }
            section.card {
                label for="tenant-url" { "Tenant URL" }
                p.hint { "Okta: Base URL. Microsoft Entra ID: Tenant URL." }
                div.copyrow {
                    input #tenant-url type="text" value=(tenant_url) readonly;
                    button.secondary type="button" data-copy="tenant-url" hidden { "Copy" }
                }
            }
            section.card {
                h2 { "Secret token" }
                @if let Some(f) = &fresh {
                    div.notice.success role="status" {
                        p { strong { "New secret token generated." } " Copy it into your identity provider now: it is shown only this once and cannot be shown again." }
                        @if f.replaced { p { "The previous token has stopped working." } }
                    }
                    (shown_once("secret-token", "Secret token", "Okta: API Token. Microsoft Entra ID: Secret Token.", f.token))
                }
                @match &t.token {
                    None => p #token-state { "This organization has no secret token yet. Press Generate to create one." },
                    Some(r) => dl.facts #token-state {
                        // The public id (what the activity log records); not the secret.
                        dt { "Token id" } dd { code { (r.id) } }
                        dt { "Generated" } dd { (when(&r.generated)) }
                        dt { "Last used" } dd { @match &r.last_used { Some(u) => (when(u)), None => "never" } }
                    },
                }
                @if t.token.is_some() {
                    p.notice.warn { "There is only one secret token per organization. Generating a new one makes the current token stop working at once." }
                }
                form method="post" action={ (org_path(&t.id)) "/settings/token" } data-confirm=[t.token.is_some().then_some(confirm)] {
                    (csrf_field(csrf))
                    // The token this page shows: a Generate from a page that is out of date
                    // is refused instead of replacing a token someone was just shown.
                    input type="hidden" name="token_id" value=(t.token.as_ref().map(|r| r.id.as_str()).unwrap_or(""));
                    @if t.token.is_some() {
                        // Without JavaScript there is no confirm(): ask with a checkbox.
                        noscript {
                            p { label { input type="checkbox" name="understood" value="yes" required; " I understand that the current token stops working at once." } }
                        }
                    }
                    button #generate type="submit" { @if t.token.is_some() { "Generate a new token" } @else { "Generate" } }
                }
            }
            section.card #provisioning {
                h2 { "Provisioning" }
                @match &t.paused_at {
                    Some(at) => {
                        p.notice.warn #paused-state role="status" {
                            strong { "Paused" } " since " (when(at)) ". Your identity provider's requests get 403 with a message saying provisioning is paused; no user or group changes. Nothing is deleted."
                        }
                        form method="post" action={ (org_path(&t.id)) "/settings/paused" } {
                            (csrf_field(csrf))
                            input type="hidden" name="paused" value="false";
                            button #resume type="submit" { "Resume provisioning" }
                        }
                    }
                    None => {
                        p #paused-state { "Running: your identity provider can create, change and deactivate users and groups." }
                        form method="post" action={ (org_path(&t.id)) "/settings/paused" } data-confirm=(PAUSE_CONFIRM) {
                            (csrf_field(csrf))
                            input type="hidden" name="paused" value="true";
                            noscript {
                                p { label { input type="checkbox" name="understood" value="yes" required; " I understand that provisioning stops until it is resumed." } }
                            }
                            button.secondary #pause type="submit" { "Pause provisioning" }
                        }
                    }
                }
            }
            section.card #profile {
                h2 { "SCIM profile" }
                p #profile-state {
                    @if t.profile.is_strict() {
                        strong { "Strict" } ": every service-provider rule of the SCIM interop profile; the endpoint says interopProfileConformant: true. Path-less PATCH, unknown attributes and unknown schema URIs are refused with 400, which breaks today's Okta and Microsoft Entra ID defaults."
                    } @else {
                        strong { "Lenient" } " (the default): accepts what Okta and Microsoft Entra ID send today (path-less PATCH, dotted keys, unknown schema URIs); the endpoint says interopProfileConformant: false."
                    }
                }
                form method="post" action={ (org_path(&t.id)) "/settings/profile" } {
                    (csrf_field(csrf))
                    label for="profile-select" { "Profile" }
                    select #profile-select name="profile" {
                        option value="lenient" selected[!t.profile.is_strict()] { "Lenient (Okta and Entra ID as they are)" }
                        option value="strict" selected[t.profile.is_strict()] { "Strict (interop profile)" }
                    }
                    button.secondary #save-profile type="submit" { "Save profile" }
                }
            }
            @if who.is_operator() {
                section.card #delete {
                    h2 { "Delete organization" }
                    p.notice.warn { "Deletes every user, group, log entry, event, webhook and admin of this organization, for good; its secret token stops working at once. Export it first with " code { "scim-server tenant export --tenant " (t.id) } "." }
                    form method="post" action={ (org_path(&t.id)) "/settings/delete" } {
                        (csrf_field(csrf))
                        label for="delete-confirm" { "Type the organization id, " code { (t.id) } ", to confirm" }
                        input #delete-confirm type="text" name="confirm" autocomplete="off" required;
                        button.danger #delete-org type="submit" { "Delete organization" }
                    }
                }
            }
        },
    )
}

/// What pausing does, asked before it happens.
const PAUSE_CONFIRM: &str = "Pausing makes every request of your identity provider fail with 403 (\"provisioning is paused\") on every server, at once: users and groups stop being created, updated or deactivated here until you resume. Nothing is deleted. Continue?";

fn status_badge(active: Option<bool>) -> Markup {
    html! {
        @match active {
            Some(false) => span.badge.off { "Deactivated" },
            _ => span.badge.ok { "Active" },
        }
    }
}

pub(crate) fn user_name_of(r: &Resource) -> String {
    let name = r.get("name");
    if let Some(f) = name
        .and_then(|n| n.get("formatted"))
        .and_then(Value::as_str)
    {
        return f.to_string();
    }
    let part = |k: &str| {
        name.and_then(|n| n.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let joined = format!("{} {}", part("givenName"), part("familyName"));
    let joined = joined.trim();
    if joined.is_empty() {
        r.get_str("displayName").unwrap_or("").to_string()
    } else {
        joined.to_string()
    }
}

pub(crate) fn email_of(r: &Resource) -> String {
    let emails = r.get("emails").and_then(Value::as_array);
    let pick = emails.and_then(|list| {
        list.iter()
            .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| list.first())
    });
    pick.and_then(|e| e.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn pager(base: &str, page: u64, total: u64, shown: usize) -> Markup {
    let first = if shown == 0 {
        0
    } else {
        crate::service::page_start(page)
    };
    let last = first + shown as u64 - u64::from(shown > 0);
    let more = last < total;
    let sep = if base.contains('?') { "&" } else { "?" };
    html! {
        nav.pager aria-label="Pages" {
            span { "Showing " (first) "–" (last) " of " (total) }
            @if page > 1 { a.button.secondary href={ (base) (sep) "page=" (page - 1) } rel="prev" { "Previous" } }
            @if more { a.button.secondary href={ (base) (sep) "page=" (page + 1) } rel="next" { "Next" } }
        }
    }
}

pub(crate) fn users(
    who: &Principal,
    t: &Tenant,
    search: &str,
    page: u64,
    result: Result<&scim_store::Page, &str>,
) -> Markup {
    let base = if search.trim().is_empty() {
        format!("{}/users", org_path(&t.id))
    } else {
        format!("{}/users?q={}", org_path(&t.id), enc(search))
    };
    layout(
        "Users",
        Some(who),
        Some((t, Tab::Users)),
        html! {
            form.card role="search" method="get" action={ (org_path(&t.id)) "/users" } {
                div.row {
                    div {
                        label for="q" { "Search users" }
                        input #q type="search" name="q" value=(search) aria-describedby="qhint";
                        p.hint #qhint { "Text found in the user name, display name or e-mail, or a SCIM filter such as " code { "active eq false" } "." }
                    }
                    div { button type="submit" { "Search" } }
                }
            }
            @match result {
                Err(e) => p.notice.error role="alert" { (e) },
                Ok(p) => {
                    @if p.resources.is_empty() {
                        p { "No users." }
                    } @else {
                        div.tablewrap { table #users {
                            thead { tr { th scope="col" { "User name" } th scope="col" { "Name" } th.opt scope="col" { "E-mail" } th scope="col" { "Status" } th.opt scope="col" { "Last modified" } } }
                            tbody {
                                @for r in &p.resources {
                                    tr {
                                        td { a href={ (org_path(&t.id)) "/users/" (enc(&r.id)) } { (r.user_name().unwrap_or("(no userName)")) } }
                                        td { (user_name_of(r)) }
                                        td.opt { (email_of(r)) }
                                        td { (status_badge(r.get("active").and_then(Value::as_bool))) }
                                        td.opt { (when(&r.meta.last_modified)) }
                                    }
                                }
                            }
                        } }
                    }
                    (pager(&base, page, p.total_results, p.resources.len()))
                }
            }
        },
    )
}

fn document(r: &Resource, tenant_url: &str) -> Markup {
    let json = serde_json::to_string_pretty(&r.to_json(tenant_url)).unwrap_or_default();
    html! {
        h2 { "SCIM document" }
        pre.json tabindex="0" aria-label="SCIM document" { (json) }
    }
}

pub(crate) fn user(
    who: &Principal,
    t: &Tenant,
    r: &Resource,
    tenant_url: &str,
    entries: &[LogEntry],
) -> Markup {
    layout(
        "User",
        Some(who),
        Some((t, Tab::Users)),
        html! {
            h2 { (r.user_name().unwrap_or("(no userName)")) " " span #status { (status_badge(r.get("active").and_then(Value::as_bool))) } }
            dl.facts.card {
                dt { "Name" } dd { (user_name_of(r)) }
                dt { "E-mail" } dd { (email_of(r)) }
                dt { "External id" } dd { (r.get_str("externalId").unwrap_or("")) }
                dt { "Id" } dd.mono { (r.id) }
                dt { "Created" } dd { (when(&r.meta.created)) }
                dt { "Last modified" } dd { (when(&r.meta.last_modified)) }
            }
            (history(t, entries))
            (document(r, tenant_url))
        },
    )
}

pub(crate) fn member_count(r: &Resource) -> usize {
    r.get("members")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

pub(crate) fn groups(who: &Principal, t: &Tenant, page: u64, p: &scim_store::Page) -> Markup {
    let base = format!("{}/groups", org_path(&t.id));
    layout(
        "Groups",
        Some(who),
        Some((t, Tab::Groups)),
        html! {
            @if p.resources.is_empty() { p { "No groups." } } @else {
                div.tablewrap { table #groups {
                    thead { tr { th scope="col" { "Display name" } th scope="col" { "Members" } th.opt scope="col" { "Last modified" } } }
                    tbody {
                        @for g in &p.resources {
                            tr {
                                td { a href={ (base) "/" (enc(&g.id)) } { (g.get_str("displayName").unwrap_or("")) } }
                                td { (member_count(g)) }
                                td.opt { (when(&g.meta.last_modified)) }
                            }
                        }
                    }
                } }
            }
            (pager(&base, page, p.total_results, p.resources.len()))
        },
    )
}

pub(crate) fn group(
    who: &Principal,
    t: &Tenant,
    g: &Resource,
    tenant_url: &str,
    entries: &[LogEntry],
) -> Markup {
    let members: Vec<&Value> = g
        .get("members")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    layout(
        "Group",
        Some(who),
        Some((t, Tab::Groups)),
        html! {
            h2 { (g.get_str("displayName").unwrap_or("")) }
            h2 { "Members (" (members.len()) ")" }
            @if members.is_empty() { p { "No members." } } @else {
                div.tablewrap { table #members {
                    thead { tr { th scope="col" { "Member" } th scope="col" { "Type" } } }
                    tbody {
                        @for m in &members {
                            @let id = m.get("value").and_then(Value::as_str).unwrap_or("");
                            @let kind = m.get("type").and_then(Value::as_str).unwrap_or("User");
                            @let label = m.get("display").and_then(Value::as_str).unwrap_or(id);
                            tr {
                                td { a href={ (org_path(&t.id)) @if kind == "Group" { "/groups/" } @else { "/users/" } (enc(id)) } { (label) } }
                                td { (kind) }
                            }
                        }
                    }
                } }
            }
            (history(t, entries))
            (document(g, tenant_url))
        },
    )
}
