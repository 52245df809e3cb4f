//! SCIM Bulk (RFC 7644 §3.7), the pure part: the request and response documents, the
//! `bulkId` dependency graph, the execution plan (dependencies first, circular references
//! created first and completed afterwards, §3.7.1), and the substitution of `bulkId:`
//! references by the ids of the resources created. No IO: the HTTP layer runs the plan.
//!
//! Choices where the RFC leaves room (documented in `docs/architecture.md`):
//! - a request that is not a well-formed BulkRequest (wrong `schemas`, `Operations` not an
//!   array, an operation without a known `method` or a valid `path`, a POST without
//!   `bulkId`, a `bulkId` used twice) is refused as a whole with 400 `invalidSyntax`
//!   (or `invalidValue` for a duplicate `bulkId`) before anything is written;
//! - more operations than `maxOperations` is a 413 (§3.7.4);
//! - a reference to a `bulkId` no operation defines, a reference of an operation to its
//!   own `bulkId`, and a reference to an operation that failed make the referencing
//!   operation fail with 409 `invalidValue` (§3.7.1: "MAY stop ... and instead return
//!   HTTP status code 409 (Conflict)");
//! - a cycle of POSTs (§3.7.1's two groups that contain each other) is resolved: each is
//!   created without the references that close the cycle, then completed with a full
//!   replace of its data once every resource of the cycle exists.

use crate::ResourceKind;
use crate::error::ScimError;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

/// The schema URI of a bulk request.
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// The schema URI of a bulk response.
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// The prefix of a reference to another operation's resource.
pub const BULK_ID_PREFIX: &str = "bulkId:";

/// How deep a bulk request's JSON may nest before it is refused (the walk over `data` is
/// recursive; the JSON parser already limits depth to 128, this keeps our own walks small).
pub const MAX_DATA_DEPTH: usize = 64;

/// The server's bulk limits, advertised in ServiceProviderConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLimits {
    /// The most operations in one request (`maxOperations`).
    pub max_operations: usize,
    /// The largest request body in bytes (`maxPayloadSize`), enforced by the HTTP layer.
    pub max_payload_bytes: usize,
}

impl Default for BulkLimits {
    fn default() -> Self {
        BulkLimits {
            max_operations: 1000,
            max_payload_bytes: 4 * 1024 * 1024,
        }
    }
}

/// The HTTP method of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkMethod {
    /// Create (`path` is a collection, `bulkId` required).
    Post,
    /// Replace.
    Put,
    /// Modify.
    Patch,
    /// Delete (no `data`).
    Delete,
}

impl BulkMethod {
    /// The method's name as the response spells it (`POST`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            BulkMethod::Post,
            BulkMethod::Put,
            BulkMethod::Patch,
            BulkMethod::Delete,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

/// One operation of a bulk request, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    /// The method.
    pub method: BulkMethod,
    /// The client's id for the operation (required for POST).
    pub bulk_id: Option<String>,
    /// The `version` (an entity tag): the `If-Match` of a PUT, PATCH or DELETE.
    pub version: Option<String>,
    /// The resource type the path names.
    pub kind: ResourceKind,
    /// The resource id of the path (`None` for POST); may be a `bulkId:` reference.
    pub id: Option<String>,
    /// The operation's body (`Value::Null` for DELETE).
    pub data: Value,
}

/// A validated bulk request.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors (`None`: process everything).
    pub fail_on_errors: Option<usize>,
    /// The operations, in request order.
    pub operations: Vec<BulkOperation>,
}

fn syntax(i: usize, detail: impl std::fmt::Display) -> ScimError {
    ScimError::invalid_syntax(format!("Operations[{i}]: {detail}"))
}

/// Finds a member by name, case-insensitively (SCIM attribute names are).
fn member<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Parses `/Users`, `/Groups`, `/Users/{id}`, `/Groups/{id}` (the id may be `bulkId:x`).
fn parse_path(path: &str) -> Option<(ResourceKind, Option<String>)> {
    let rest = path.strip_prefix('/')?;
    let (endpoint, id) = match rest.split_once('/') {
        Some((e, id)) => (e, Some(id)),
        None => (rest, None),
    };
    let kind = match endpoint {
        "Users" => ResourceKind::User,
        "Groups" => ResourceKind::Group,
        _ => return None,
    };
    match id {
        None => Some((kind, None)),
        Some(id) if !id.is_empty() && !id.contains('/') => Some((kind, Some(id.to_string()))),
        Some(_) => None,
    }
}

fn depth(v: &Value, limit: usize) -> bool {
    if limit == 0 {
        return false;
    }
    match v {
        Value::Array(a) => a.iter().all(|x| depth(x, limit - 1)),
        Value::Object(o) => o.values().all(|x| depth(x, limit - 1)),
        _ => true,
    }
}

impl BulkRequest {
    /// Validates a bulk request body against `limits` (see the module docs for what is
    /// refused as a whole: 400, or 413 for too many operations).
    pub fn from_json(body: &Value, limits: &BulkLimits) -> Result<BulkRequest, ScimError> {
        let obj = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("The bulk request must be a JSON object"))?;
        let schemas_ok = member(obj, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(BULK_REQUEST)));
        if !schemas_ok {
            return Err(ScimError::invalid_syntax(format!(
                "'schemas' must contain {BULK_REQUEST}"
            )));
        }
        let fail_on_errors = match member(obj, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => {
                    return Err(ScimError::invalid_syntax(
                        "'failOnErrors' must be an integer of at least 1",
                    ));
                }
            },
        };
        let ops = member(obj, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| ScimError::invalid_syntax("'Operations' must be an array"))?;
        if ops.len() > limits.max_operations {
            return Err(ScimError::payload_too_large(format!(
                "The bulk request has {} operations; maxOperations is {}",
                ops.len(),
                limits.max_operations
            )));
        }
        let mut seen: HashSet<String> = HashSet::new();
        let mut operations = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            let op = parse_operation(i, op)?;
            if let Some(b) = &op.bulk_id
                && op.method == BulkMethod::Post
                && !seen.insert(b.clone())
            {
                return Err(ScimError::invalid_value(format!(
                    "Operations[{i}]: bulkId '{b}' is used by an earlier operation"
                )));
            }
            operations.push(op);
        }
        Ok(BulkRequest {
            fail_on_errors,
            operations,
        })
    }
}

fn opt_string(i: usize, obj: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    match member(obj, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(syntax(i, format!("'{name}' must be a string"))),
    }
}

fn parse_operation(i: usize, op: &Value) -> Result<BulkOperation, ScimError> {
    let obj = op
        .as_object()
        .ok_or_else(|| syntax(i, "each operation must be a JSON object"))?;
    let method = opt_string(i, obj, "method")?
        .as_deref()
        .and_then(BulkMethod::parse)
        .ok_or_else(|| syntax(i, "'method' must be POST, PUT, PATCH or DELETE"))?;
    let path = opt_string(i, obj, "path")?.ok_or_else(|| syntax(i, "'path' is required"))?;
    let (kind, id) = parse_path(&path).ok_or_else(|| {
        syntax(
            i,
            "'path' must be /Users, /Groups, /Users/{id} or /Groups/{id}",
        )
    })?;
    let bulk_id = opt_string(i, obj, "bulkId")?;
    let version = opt_string(i, obj, "version")?;
    let data = member(obj, "data").cloned().unwrap_or(Value::Null);
    if !depth(&data, MAX_DATA_DEPTH) {
        return Err(syntax(i, "'data' nests too deeply"));
    }
    match (method, &id) {
        (BulkMethod::Post, Some(_)) => return Err(syntax(i, "POST takes a collection path")),
        (BulkMethod::Post, None) if bulk_id.as_deref().is_none_or(str::is_empty) => {
            return Err(syntax(i, "'bulkId' is required for POST"));
        }
        (BulkMethod::Post, None) => {}
        (_, None) => return Err(syntax(i, "PUT, PATCH and DELETE take a resource path")),
        _ => {}
    }
    if method != BulkMethod::Delete && !data.is_object() {
        return Err(syntax(i, "'data' must be a JSON object"));
    }
    Ok(BulkOperation {
        method,
        bulk_id,
        version,
        kind,
        id,
        data,
    })
}

/// The `bulkId` a string refers to, if it is a reference.
pub fn reference(s: &str) -> Option<&str> {
    s.strip_prefix(BULK_ID_PREFIX)
}

/// Every `bulkId` an operation refers to (in its path and anywhere in its data), in order
/// of appearance, each once.
pub fn references(op: &BulkOperation) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |r: &str| {
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    };
    if let Some(r) = op.id.as_deref().and_then(reference) {
        push(r);
    }
    fn walk(v: &Value, push: &mut dyn FnMut(&str)) {
        match v {
            Value::String(s) => {
                if let Some(r) = reference(s) {
                    push(r);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, push)),
            Value::Object(o) => o.values().for_each(|x| walk(x, push)),
            _ => {}
        }
    }
    walk(&op.data, &mut push);
    out
}

/// One step of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create these POSTs (operation indexes) of one resource type together: none refers
    /// to another of the same step, so they can go to the store as one batch.
    Create {
        /// The resource type.
        kind: ResourceKind,
        /// The operations, in execution order.
        ops: Vec<usize>,
    },
    /// Run one PUT, PATCH or DELETE.
    Single(usize),
    /// Complete a POST of a cycle: replace its resource with its full data, now that every
    /// reference resolves (§3.7.1).
    Complete(usize),
}

/// The order in which a request's operations run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The steps.
    pub steps: Vec<Step>,
    /// Per operation, the `bulkId`s its first run leaves out (they close a cycle and are
    /// filled in by its [`Step::Complete`]).
    pub deferred: Vec<HashSet<String>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    New,
    Visiting,
    Done,
}

/// Orders the operations: each after the POSTs it refers to (forward references work),
/// otherwise in request order; consecutive POSTs of one type with no reference between
/// them form one [`Step::Create`]. References that close a cycle are deferred. The
/// depth-first walk is iterative, so a long chain of references cannot overflow the stack.
pub fn plan(request: &BulkRequest) -> Plan {
    let ops = &request.operations;
    let defined: HashMap<&str, usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| o.method == BulkMethod::Post)
        .filter_map(|(i, o)| o.bulk_id.as_deref().map(|b| (b, i)))
        .collect();
    let refs: Vec<Vec<String>> = ops.iter().map(references).collect();
    let mut marks = vec![Mark::New; ops.len()];
    let mut deferred: Vec<HashSet<String>> = vec![HashSet::new(); ops.len()];
    let mut order: Vec<usize> = Vec::with_capacity(ops.len());
    for root in 0..ops.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // (operation, index of the next reference to look at)
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::Visiting;
        while let Some(&mut (i, ref mut next)) = stack.last_mut() {
            if let Some(r) = refs[i].get(*next) {
                *next += 1;
                let Some(&j) = defined.get(r.as_str()) else {
                    continue; // unknown: the operation fails when it runs
                };
                match marks[j] {
                    Mark::Done => {}
                    // A cycle (or a self-reference, refused when it runs).
                    Mark::Visiting if j != i => {
                        deferred[i].insert(r.clone());
                    }
                    Mark::Visiting => {}
                    Mark::New => {
                        marks[j] = Mark::Visiting;
                        stack.push((j, 0));
                    }
                }
            } else {
                marks[i] = Mark::Done;
                order.push(i);
                stack.pop();
            }
        }
    }
    let mut steps: Vec<Step> = Vec::new();
    for &i in &order {
        let op = &ops[i];
        if op.method != BulkMethod::Post {
            steps.push(Step::Single(i));
            continue;
        }
        let joins = match steps.last() {
            Some(Step::Create { kind, ops: run }) if *kind == op.kind => !refs[i].iter().any(|r| {
                defined
                    .get(r.as_str())
                    .is_some_and(|j| run.contains(j) && !deferred[i].contains(r))
            }),
            _ => false,
        };
        match steps.last_mut() {
            Some(Step::Create { ops: run, .. }) if joins => run.push(i),
            _ => steps.push(Step::Create {
                kind: op.kind,
                ops: vec![i],
            }),
        }
    }
    for (i, d) in deferred.iter().enumerate() {
        if !d.is_empty() {
            steps.push(Step::Complete(i));
        }
    }
    Plan { steps, deferred }
}

/// Why a reference could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// No operation of the request has this `bulkId`.
    Unknown(String),
    /// The operation that has this `bulkId` failed (or did not run).
    Failed(String),
    /// The operation refers to its own `bulkId`.
    SelfReference(String),
}

impl Unresolved {
    /// The per-operation error (409 `invalidValue`, see the module docs).
    pub fn to_error(&self) -> ScimError {
        let detail = match self {
            Unresolved::Unknown(b) => format!("bulkId '{b}' is not defined by any operation"),
            Unresolved::Failed(b) => {
                format!("bulkId '{b}' refers to an operation that did not succeed")
            }
            Unresolved::SelfReference(b) => {
                format!("bulkId '{b}' refers to the operation itself; that cannot be resolved")
            }
        };
        ScimError::new(409, Some(crate::ScimType::InvalidValue), detail)
    }
}

/// What a substitution knows: the ids created so far, and every `bulkId` of the request.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    /// `bulkId` → the id of the resource its POST created.
    pub created: HashMap<String, String>,
    /// Every `bulkId` a POST of the request defines.
    pub defined: HashSet<String>,
}

impl Resolver {
    /// A resolver for `request`.
    pub fn new(request: &BulkRequest) -> Self {
        Resolver {
            created: HashMap::new(),
            defined: request
                .operations
                .iter()
                .filter(|o| o.method == BulkMethod::Post)
                .filter_map(|o| o.bulk_id.clone())
                .collect(),
        }
    }

    fn resolve(&self, own: Option<&str>, r: &str) -> Result<String, Unresolved> {
        if own == Some(r) {
            return Err(Unresolved::SelfReference(r.to_string()));
        }
        match self.created.get(r) {
            Some(id) => Ok(id.clone()),
            None if self.defined.contains(r) => Err(Unresolved::Failed(r.to_string())),
            None => Err(Unresolved::Unknown(r.to_string())),
        }
    }

    /// The operation's resource id with a `bulkId:` reference resolved.
    pub fn path_id(&self, op: &BulkOperation) -> Result<Option<String>, Unresolved> {
        match op.id.as_deref() {
            Some(id) => match reference(id) {
                Some(r) => self.resolve(None, r).map(Some),
                None => Ok(Some(id.to_string())),
            },
            None => Ok(None),
        }
    }

    /// `op.data` with every `bulkId:` string replaced by the created id; references in
    /// `skip` are left out instead (an array element or object member holding one is
    /// removed), for the first run of a cycle.
    pub fn data(&self, op: &BulkOperation, skip: &HashSet<String>) -> Result<Value, Unresolved> {
        let own = if op.method == BulkMethod::Post {
            op.bulk_id.as_deref()
        } else {
            None
        };
        // `None`: the value is to be removed.
        fn walk(
            r: &Resolver,
            own: Option<&str>,
            skip: &HashSet<String>,
            v: &Value,
        ) -> Result<Option<Value>, Unresolved> {
            Ok(Some(match v {
                Value::String(s) => match reference(s) {
                    Some(b) if skip.contains(b) => return Ok(None),
                    Some(b) => Value::String(r.resolve(own, b)?),
                    None => v.clone(),
                },
                Value::Array(a) => {
                    let mut out = Vec::with_capacity(a.len());
                    for x in a {
                        if let Some(x) = walk(r, own, skip, x)? {
                            out.push(x);
                        }
                    }
                    Value::Array(out)
                }
                Value::Object(o) => {
                    let mut out = Map::new();
                    for (k, x) in o {
                        match walk(r, own, skip, x)? {
                            Some(x) => {
                                out.insert(k.clone(), x);
                            }
                            // A complex value that named a deferred resource goes as a
                            // whole (a member without its `value` means nothing).
                            None if x.is_string() => return Ok(None),
                            None => {}
                        }
                    }
                    Value::Object(out)
                }
                _ => v.clone(),
            }))
        }
        // The top-level object always stays (only its members can go).
        match &op.data {
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, x) in o {
                    if let Some(x) = walk(self, own, skip, x)? {
                        out.insert(k.clone(), x);
                    }
                }
                Ok(Value::Object(out))
            }
            other => Ok(walk(self, own, skip, other)?.unwrap_or(Value::Null)),
        }
    }
}

/// The outcome of one operation, as the response reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationResult {
    /// The method.
    pub method: BulkMethod,
    /// The operation's `bulkId`, echoed.
    pub bulk_id: Option<String>,
    /// The resource's URI, when known.
    pub location: Option<String>,
    /// The resource's entity tag after the operation, when it has one.
    pub version: Option<String>,
    /// The HTTP status of the operation.
    pub status: u16,
    /// The SCIM error of a failed operation.
    pub error: Option<ScimError>,
}

impl OperationResult {
    /// The operation's entry in the response's `Operations` (`status` is a string, as in
    /// the RFC's examples).
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("method".into(), json!(self.method.as_str()));
        if let Some(b) = &self.bulk_id {
            o.insert("bulkId".into(), json!(b));
        }
        if let Some(l) = &self.location {
            o.insert("location".into(), json!(l));
        }
        if let Some(v) = &self.version {
            o.insert("version".into(), json!(v));
        }
        o.insert("status".into(), json!(self.status.to_string()));
        if let Some(e) = &self.error {
            o.insert("response".into(), e.to_json());
        }
        Value::Object(o)
    }
}

/// The bulk response document for `results` (in the order they ran).
pub fn bulk_response(results: &[OperationResult]) -> Value {
    json!({
        "schemas": [BULK_RESPONSE],
        "Operations": results.iter().map(OperationResult::to_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
#[path = "bulk_tests.rs"]
mod tests;
