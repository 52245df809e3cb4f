//! The HTML of the provisioning log: the Activity page (with each entry's delivery state)
//! and a resource's provisioning history.

use crate::session::Principal;
use crate::views::{Tab, enc, layout, org_path, when};
use maud::{Markup, html};
use scim_store::{LogEntry, LogOperation, Subscription, Tenant};

pub(crate) fn history(t: &Tenant, entries: &[LogEntry]) -> Markup {
    html! {
        h2 { "Provisioning history" }
        @if entries.is_empty() { p { "Nothing recorded." } } @else {
            (log_table(t, entries, false, None))
        }
    }
}

/// The provisioning-log table; with `delivery` (the organization's subscriptions), a
/// column with each entry's delivery state.
fn log_table(
    t: &Tenant,
    entries: &[LogEntry],
    with_resource: bool,
    delivery: Option<&[Subscription]>,
) -> Markup {
    html! {
        div.tablewrap { table #log {
            thead { tr { th scope="col" { "When" } th scope="col" { "Operation" } @if with_resource { th scope="col" { "Resource" } } th scope="col" { "Summary" } @if delivery.is_some() { th scope="col" { "Delivery" } } } }
            tbody {
                @for e in entries {
                    tr {
                        td { (when(&e.at)) }
                        td { span.badge.(op_class(e.operation)) { (e.operation.as_str()) } }
                        @if with_resource {
                            td {
                                (e.resource_kind.as_str()) " "
                                @if e.operation == LogOperation::Delete {
                                    span.mono { (e.resource_id) }
                                } @else {
                                    a.mono href={ (org_path(&t.id)) @if e.resource_kind == scim_core::ResourceKind::User { "/users/" } @else { "/groups/" } (enc(&e.resource_id)) } { (e.resource_id) }
                                }
                            }
                        }
                        td { (e.summary) }
                        @if let Some(subs) = delivery {
                            td.delivery { (crate::webhooks::delivery_state(e.events, subs)) }
                        }
                    }
                }
            }
        } }
    }
}

fn op_class(op: LogOperation) -> &'static str {
    match op {
        LogOperation::Deactivate | LogOperation::Delete => "off",
        LogOperation::Create | LogOperation::Reactivate => "ok",
        _ => "neutral",
    }
}

pub(crate) fn activity(
    who: &Principal,
    t: &Tenant,
    filter: &crate::service::LogFilter,
    result: Result<&[LogEntry], &str>,
    subs: &[Subscription],
    page_size: u64,
) -> Markup {
    let op = filter.operation.clone().unwrap_or_default();
    let kind = filter.kind.clone().unwrap_or_default();
    let ops = [
        "create",
        "update",
        "deactivate",
        "reactivate",
        "delete",
        "group-membership",
    ];
    layout(
        "Activity",
        Some(who),
        Some((t, Tab::Activity)),
        html! {
            form.card method="get" action={ (org_path(&t.id)) "/activity" } {
                div.row {
                    div {
                        label for="operation" { "Operation" }
                        select #operation name="operation" {
                            option value="" selected[op.is_empty()] { "Any" }
                            @for o in ops { option value=(o) selected[op == o] { (o) } }
                        }
                    }
                    div {
                        label for="kind" { "Resource kind" }
                        select #kind name="kind" {
                            option value="" selected[kind.is_empty()] { "Any" }
                            @for k in ["User", "Group"] { option value=(k) selected[kind == k] { (k) } }
                        }
                    }
                    div { button type="submit" { "Filter" } }
                }
            }
            @match result {
                Err(e) => p.notice.error role="alert" { (e) },
                Ok(entries) => {
                    @if entries.is_empty() { p { "Nothing recorded." } } @else {
                        (log_table(t, entries, true, Some(subs)))
                        @if entries.len() as u64 >= page_size {
                            @if let Some(last) = entries.last() {
                                nav.pager aria-label="Pages" {
                                    a.button.secondary rel="next" href={ (org_path(&t.id)) "/activity?operation=" (enc(&op)) "&kind=" (enc(&kind)) "&before=" (last.id) } { "Older entries" }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
