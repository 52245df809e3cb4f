//! `POST /Bulk` (RFC 7644 §3.7), the IO side: it runs the plan of
//! [`scim_core::bulk`] on one session. The token is checked once; the tenant's rate limit
//! is charged one token per operation (capped at the bucket's size, so a Bulk within
//! `maxOperations` is never impossible). Each operation is what the single-resource
//! endpoint does ([`super::write`]: same validation, uniqueness, `If-Match`, log row and
//! events) in its own transaction, except that runs of independent POSTs go to the store
//! as one transaction with a savepoint per resource ([`Session::create_each`]). Every
//! success reported is committed; a failed operation wrote nothing.

use super::write::{check_new_grants, delete_on, patch_on, replace_on, schemas_listed};
use super::{Patched, Rendered};
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenant_schemas::Tenancy;
use scim_core::ScimError;
use scim_core::bulk::{
    BulkMethod, BulkOperation, BulkRequest, OperationResult, Resolver, Step, bulk_response, plan,
};
use scim_core::events::UpdateMethod;
use scim_core::patch::PatchRequest;
use scim_core::profile::check_resource_body_in;
use scim_core::projection::Projection;
use scim_core::resource::{Attributes, parse_resource_in};
use scim_core::schema::ResourceKind;
use scim_core::version::etag;
use scim_store::{Access, Session};
use serde_json::Value;
use std::collections::HashSet;

/// Validates and runs a bulk request; answers the BulkResponse document as JSON text.
pub async fn bulk(state: &AppState, auth: &Authenticated, body: Value) -> Result<String, ApiError> {
    let request = BulkRequest::from_json(&body, &state.limits.bulk)?;
    let (a, limiter, base, schemas) = (
        auth.clone(),
        state.limiter.clone(),
        state.tenant_url(&auth.tenant_id),
        state.schemas.clone(),
    );
    state
        .session(Access::Write, move |s| {
            let cx = a.check(s, &schemas)?;
            limiter.admit_n(&a.tenant_id, request.operations.len())?;
            Ok(Runner::new(s, &a, &base, &request, cx).run().to_string())
        })
        .await
}

/// One bulk request being run.
struct Runner<'a> {
    s: &'a mut dyn Session,
    auth: &'a Authenticated,
    base: &'a str,
    request: &'a BulkRequest,
    /// The tenant's profile and resource types: each operation is checked as its own
    /// endpoint checks it.
    cx: Tenancy,
    resolver: Resolver,
    /// Per operation, its result once it ran.
    results: Vec<Option<OperationResult>>,
    /// The operations in the order they first ran (the response's order).
    order: Vec<usize>,
    errors: usize,
}

impl<'a> Runner<'a> {
    fn new(
        s: &'a mut dyn Session,
        auth: &'a Authenticated,
        base: &'a str,
        request: &'a BulkRequest,
        cx: Tenancy,
    ) -> Self {
        Runner {
            s,
            auth,
            base,
            request,
            cx,
            resolver: Resolver::new(request),
            results: vec![None; request.operations.len()],
            order: Vec::new(),
            errors: 0,
        }
    }

    /// Whether `failOnErrors` says to stop.
    fn stopped(&self) -> bool {
        self.request
            .fail_on_errors
            .is_some_and(|m| self.errors >= m)
    }

    /// Errors still allowed before stopping.
    fn allowance(&self) -> Option<usize> {
        self.request
            .fail_on_errors
            .map(|m| m.saturating_sub(self.errors))
    }

    fn op(&self, i: usize) -> &'a BulkOperation {
        &self.request.operations[i]
    }

    fn record(&mut self, i: usize, r: OperationResult) {
        if r.error.is_some() {
            self.errors += 1;
        }
        if self.results[i].is_none() {
            self.order.push(i);
        }
        self.results[i] = Some(r);
    }

    fn fail(&mut self, i: usize, location: Option<String>, e: &ApiError) {
        let e = e.to_scim();
        let op = self.op(i);
        self.record(
            i,
            OperationResult {
                method: op.method,
                bulk_id: op.bulk_id.clone(),
                location,
                version: None,
                status: e.status(),
                error: Some(e),
            },
        );
    }

    fn succeed(&mut self, i: usize, status: u16, location: String, version: Option<String>) {
        let op = self.op(i);
        self.record(
            i,
            OperationResult {
                method: op.method,
                bulk_id: op.bulk_id.clone(),
                location: Some(location),
                version,
                status,
                error: None,
            },
        );
    }

    fn location(&self, kind: ResourceKind, id: &str) -> String {
        format!(
            "{}{}/{id}",
            self.base.trim_end_matches('/'),
            kind.resource_type().endpoint
        )
    }

    fn run(mut self) -> Value {
        let plan = plan(self.request);
        for step in &plan.steps {
            if self.stopped() {
                break;
            }
            match step {
                Step::Create { kind, ops } => self.create(*kind, ops, &plan.deferred),
                Step::Single(i) => self.single(*i),
                Step::Complete(i) => self.complete(*i),
            }
        }
        let results: Vec<OperationResult> = self
            .order
            .iter()
            .filter_map(|&i| self.results[i].clone())
            .collect();
        bulk_response(&results)
    }

    /// A run of POSTs: each validated as `POST /Users` would, the valid ones created in
    /// one store transaction (flushed before a failure is recorded, so results keep the
    /// execution order and `failOnErrors` counts in it).
    fn create(&mut self, kind: ResourceKind, ops: &[usize], deferred: &[HashSet<String>]) {
        let mut pending: Vec<(usize, Attributes)> = Vec::new();
        for &i in ops {
            let op = self.op(i);
            let attributes = self
                .resolver
                .data(op, &deferred[i])
                .map_err(|u| u.to_error())
                .map_err(ApiError::from)
                .and_then(|d| {
                    let rt = self.cx.resource_type(kind);
                    check_resource_body_in(self.cx.profile, rt, &d)?;
                    let a = parse_resource_in(rt, &d)?;
                    check_new_grants(self.s, &self.auth.tenant_id, kind, &d, &a)?;
                    Ok(a)
                });
            match attributes {
                Ok(a) => pending.push((i, a)),
                Err(e) => {
                    self.flush(kind, std::mem::take(&mut pending));
                    if self.stopped() {
                        return;
                    }
                    self.fail(i, None, &e);
                    if self.stopped() {
                        return;
                    }
                }
            }
        }
        self.flush(kind, pending);
    }

    fn flush(&mut self, kind: ResourceKind, pending: Vec<(usize, Attributes)>) {
        if pending.is_empty() || self.stopped() {
            return;
        }
        let (idx, batch): (Vec<usize>, Vec<Attributes>) = pending.into_iter().unzip();
        let actor = self.auth.actor_in(UpdateMethod::Put, self.cx.registry);
        let allowance = self.allowance();
        match self
            .s
            .create_each(&actor, &self.auth.tenant_id, kind, batch, allowance)
        {
            Ok(results) => {
                for (i, r) in idx.into_iter().zip(results) {
                    match r {
                        Ok(created) => {
                            if let Some(b) = &self.op(i).bulk_id {
                                self.resolver.created.insert(b.clone(), created.id.clone());
                            }
                            let location = self.location(kind, &created.id);
                            self.succeed(i, 201, location, Some(etag(created.meta.version)));
                        }
                        Err(e) => self.fail(i, None, &ApiError::Store(e)),
                    }
                }
            }
            // Nothing of the batch was committed: each of its operations failed.
            Err(e) => {
                let e = ApiError::Store(e);
                for i in idx {
                    if self.stopped() {
                        break;
                    }
                    self.fail(i, None, &e);
                }
            }
        }
    }

    /// A PUT, PATCH or DELETE, as its endpoint does it (`version` is the `If-Match`).
    fn single(&mut self, i: usize) {
        let op = self.op(i);
        let resolved = self
            .resolver
            .path_id(op)
            .and_then(|id| Ok((id, self.resolver.data(op, &HashSet::new())?)));
        let (id, data) = match resolved {
            Ok((Some(id), data)) => (id, data),
            Ok((None, _)) => {
                let e = ScimError::invalid_syntax("The operation needs a resource path");
                return self.fail(i, None, &e.into());
            }
            Err(u) => return self.fail(i, None, &u.to_error().into()),
        };
        let (kind, pin, projection) = (op.kind, op.version.as_deref(), Projection::default());
        let location = self.location(kind, &id);
        let (s, auth, base, cx) = (&mut *self.s, self.auth, self.base, self.cx);
        let outcome: Result<(u16, Option<String>), ApiError> = match op.method {
            BulkMethod::Put => replace_on(s, auth, base, kind, &id, &data, pin, &projection, cx)
                .map(|r: Rendered| (200, Some(r.etag))),
            BulkMethod::Patch => PatchRequest::from_json(&data)
                .map_err(ApiError::from)
                .and_then(|p| {
                    let strict = (cx, schemas_listed(&data));
                    patch_on(s, auth, base, kind, &id, &p, pin, &projection, strict)
                })
                .map(|p| match p {
                    Patched::NoContent { etag } => (200, Some(etag)),
                    Patched::Resource(r) => (200, Some(r.etag)),
                }),
            BulkMethod::Delete => delete_on(s, auth, kind, &id, pin).map(|()| (204, None)),
            BulkMethod::Post => Err(ScimError::invalid_syntax("POST takes a collection").into()),
        };
        match outcome {
            Ok((status, version)) => self.succeed(i, status, location, version),
            Err(e) => self.fail(i, Some(location), &e),
        }
    }

    /// The second half of a cycle (§3.7.1): the created resource gets its full data, now
    /// that every reference resolves. Skipped when its creation failed; when it fails, the
    /// created resource is deleted again.
    fn complete(&mut self, i: usize) {
        let op = self.op(i);
        let created = self.results[i].as_ref().is_some_and(|r| r.error.is_none());
        let Some(id) = op
            .bulk_id
            .as_ref()
            .and_then(|b| self.resolver.created.get(b))
            .cloned()
        else {
            return;
        };
        if !created {
            return;
        }
        let location = self.location(op.kind, &id);
        let completed = self
            .resolver
            .data(op, &HashSet::new())
            .map_err(|u| ApiError::from(u.to_error()))
            .and_then(|data| {
                replace_on(
                    self.s,
                    self.auth,
                    self.base,
                    op.kind,
                    &id,
                    &data,
                    None,
                    &Projection::default(),
                    self.cx,
                )
            });
        match completed {
            Ok(r) => self.succeed(i, 201, location, Some(r.etag)),
            // The operation is atomic: its first half is undone, so a failed operation
            // leaves nothing behind (the log and the feed show the create and the delete).
            // Should the undo fail too, the location says what is left.
            Err(e) => match delete_on(self.s, self.auth, op.kind, &id, None) {
                Ok(()) => {
                    if let Some(b) = &op.bulk_id {
                        self.resolver.created.remove(b);
                    }
                    self.fail(i, None, &e);
                }
                Err(_) => self.fail(i, Some(location), &e),
            },
        }
    }
}
