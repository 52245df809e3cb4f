//! Projection of resources by `attributes` / `excludedAttributes` (RFC 7644 §3.9), honouring
//! each attribute's `returned` characteristic (RFC 7643 §2.2, §7).
//!
//! - `always` attributes (`id`, `schemas`) survive any projection;
//! - `never` attributes (`password`) never appear;
//! - `default` attributes appear unless excluded or left out of an `attributes` list;
//! - `request` attributes appear only when named in `attributes`.
//!
//! Paths may name sub-attributes (`name.givenName`, `emails.value`), be URN-qualified
//! (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`), or name a
//! whole extension by its URN.

use crate::filter::AttrPath;
use crate::schema::{AttributeDef, ResourceType, Returned};
use serde_json::{Map, Value};

/// Which attributes a response carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

/// How a path refers to a top-level member of the resource JSON.
enum Member<'a> {
    /// A core or common attribute.
    Core(&'a str),
    /// An attribute inside an extension object.
    Extension(&'a str, &'a str),
    /// A whole extension object.
    WholeExtension(&'a str),
}

impl Projection {
    /// A projection from the two lists. When both are given, `attributes` wins (the RFC
    /// makes them mutually exclusive).
    pub fn new(attributes: Vec<AttrPath>, excluded: Vec<AttrPath>) -> Self {
        Projection {
            attributes,
            excluded,
        }
    }

    /// Whether this projection returns the default attribute set unchanged.
    pub fn is_default(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    /// Whether the top-level core attribute `name` (e.g. `members`, `groups`) may appear in
    /// the projected output, so callers can skip loading what would be dropped.
    pub fn wants(&self, rt: &ResourceType, name: &str) -> bool {
        let Some(resolved) = rt.resolve(None, name) else {
            return true;
        };
        let def = resolved.def;
        let member = match resolved.extension {
            None => Member::Core(def.name),
            Some(urn) => Member::Extension(urn, def.name),
        };
        self.keeps_top_level(rt, &member, def)
    }

    fn keeps_top_level(&self, rt: &ResourceType, member: &Member<'_>, def: &AttributeDef) -> bool {
        match def.returned {
            Returned::Never => false,
            Returned::Always => true,
            returned => {
                if !self.attributes.is_empty() {
                    self.attributes.iter().any(|p| path_touches(rt, p, member))
                } else if returned == Returned::Request {
                    false
                } else {
                    !self
                        .excluded
                        .iter()
                        .any(|p| p.sub_attr.is_none() && path_touches(rt, p, member))
                }
            }
        }
    }

    /// Applies the projection to a resource document in place.
    pub fn apply(&self, rt: &ResourceType, doc: &mut Value) {
        if self.is_default() {
            apply_default(rt, doc);
        } else {
            self.apply_general(rt, doc);
        }
        if !rt.withheld.is_empty() {
            withhold(rt, doc);
        }
    }

    /// The projection of any `attributes`/`excludedAttributes`; for the default one it
    /// gives what [`apply_default`] gives, by walking everything.
    fn apply_general(&self, rt: &ResourceType, doc: &mut Value) {
        let Value::Object(map) = doc else {
            return;
        };
        let keys: Vec<String> = map.keys().cloned().collect();
        let mut dropped = Vec::new();
        for key in keys {
            let keep = if crate::resource::is_urn(&key) {
                self.project_extension(rt, &key, map)
            } else {
                match rt.resolve(None, &key).filter(|r| r.extension.is_none()) {
                    Some(resolved) => {
                        let member = Member::Core(resolved.def.name);
                        if self.keeps_top_level(rt, &member, resolved.def) {
                            if let Some(v) = map.get_mut(&key) {
                                self.project_sub_attributes(rt, &member, resolved.def, v);
                            }
                            true
                        } else {
                            false
                        }
                    }
                    // Unknown members are returned by default.
                    None => self.attributes.is_empty(),
                }
            };
            if !keep {
                dropped.push(key);
            }
        }
        // `retain` keeps the attribute order (`remove` may not, with `preserve_order`).
        map.retain(|k, _| !dropped.contains(k));
    }

    /// Projects one extension object; returns whether it stays.
    fn project_extension(
        &self,
        rt: &ResourceType,
        urn: &str,
        map: &mut Map<String, Value>,
    ) -> bool {
        let whole = Member::WholeExtension(urn);
        if !self.attributes.is_empty()
            && self
                .attributes
                .iter()
                .any(|p| path_touches(rt, p, &whole) && is_whole_schema(p, urn))
        {
            // The whole extension asked for: its attributes returned by default, not those
            // never returned or returned only when named (nor, in a closed extension,
            // those it no longer defines).
            let schema = rt.extension(urn);
            if let (Some(schema), Some(Value::Object(ext))) = (schema, map.get_mut(urn)) {
                ext.retain(|k, _| match schema.attribute(k) {
                    Some(def) => matches!(def.returned, Returned::Default | Returned::Always),
                    None => !schema.closed,
                });
                return !ext.is_empty();
            }
            return true;
        }
        if self.excluded.iter().any(|p| is_whole_schema(p, urn)) {
            return false;
        }
        let Some(Value::Object(ext)) = map.get_mut(urn) else {
            return self.attributes.is_empty();
        };
        let schema = rt.extension(urn);
        let closed = schema.is_some_and(|s| s.closed);
        let keys: Vec<String> = ext.keys().cloned().collect();
        let mut dropped = Vec::new();
        for key in keys {
            let def = schema.and_then(|s| s.attribute(&key));
            let keep = match def {
                Some(def) => {
                    let member = Member::Extension(urn, def.name);
                    if self.keeps_top_level(rt, &member, def) {
                        if let Some(v) = ext.get_mut(&key) {
                            self.project_sub_attributes(rt, &member, def, v);
                        }
                        true
                    } else {
                        false
                    }
                }
                // Values of attributes a closed extension no longer defines are withheld.
                None => self.attributes.is_empty() && !closed,
            };
            if !keep {
                dropped.push(key);
            }
        }
        ext.retain(|k, _| !dropped.contains(k));
        !ext.is_empty()
    }

    /// Narrows a kept complex attribute to the sub-attributes named or not excluded.
    fn project_sub_attributes(
        &self,
        rt: &ResourceType,
        member: &Member<'_>,
        def: &AttributeDef,
        value: &mut Value,
    ) {
        if !def.is_complex() {
            return;
        }
        let requested: Vec<&str> = self
            .attributes
            .iter()
            .filter(|p| path_touches(rt, p, member))
            .map(|p| p.sub_attr.as_deref())
            .collect::<Option<Vec<&str>>>()
            .unwrap_or_default();
        let excluded: Vec<&str> = if self.attributes.is_empty() {
            self.excluded
                .iter()
                .filter(|p| path_touches(rt, p, member))
                .filter_map(|p| p.sub_attr.as_deref())
                .collect()
        } else {
            Vec::new()
        };
        let keep_sub = |name: &str| -> bool {
            let sub = def.sub_attribute(name);
            let returned = sub.map(|s| s.returned).unwrap_or(Returned::Default);
            match returned {
                Returned::Never => false,
                Returned::Always => true,
                _ if !requested.is_empty() => {
                    requested.iter().any(|r| r.eq_ignore_ascii_case(name))
                }
                Returned::Request => false,
                _ => !excluded.iter().any(|e| e.eq_ignore_ascii_case(name)),
            }
        };
        let narrow = |obj: &mut Map<String, Value>| obj.retain(|k, _| keep_sub(k));
        match value {
            Value::Object(obj) => narrow(obj),
            Value::Array(items) => {
                for item in items.iter_mut() {
                    if let Value::Object(obj) = item {
                        narrow(obj);
                    }
                }
                items.retain(|v| !matches!(v, Value::Object(o) if o.is_empty()));
            }
            _ => {}
        }
    }
}

/// The default projection (no `attributes`, no `excludedAttributes`): only `returned:
/// never`/`request` attributes and sub-attributes go, so only the complex attributes that
/// have such sub-attributes (a group's `members.display`) are walked value by value; the
/// others are left as they are, up to dropping empty objects from lists and empty extension
/// objects, as the general path does.
fn apply_default(rt: &ResourceType, doc: &mut Value) {
    let Value::Object(map) = doc else {
        return;
    };
    map.retain(|key, value| {
        if crate::resource::is_urn(key) {
            let Value::Object(ext) = value else {
                return true;
            };
            let schema = rt.extension(key);
            let closed = schema.is_some_and(|s| s.closed);
            ext.retain(|k, v| match schema.and_then(|s| s.attribute(k)) {
                Some(def) => keep_default(def, v),
                // Values of attributes a closed extension no longer defines are withheld.
                None => !closed,
            });
            return !ext.is_empty();
        }
        match rt.resolve(None, key).filter(|r| r.extension.is_none()) {
            Some(resolved) => keep_default(resolved.def, value),
            // Unknown members are returned by default.
            None => true,
        }
    });
}

/// Drops the objects of withheld (removed) extensions, URN-qualified keys under them, and
/// their URNs from `schemas`: their stored values are kept but never returned.
fn withhold(rt: &ResourceType, doc: &mut Value) {
    let Value::Object(map) = doc else {
        return;
    };
    map.retain(|key, _| {
        !(crate::resource::is_urn(key)
            && (rt.is_withheld(key)
                || crate::resource::split_urn(key).is_some_and(|(u, _)| rt.is_withheld(u))))
    });
    if let Some(Value::Array(schemas)) = map.get_mut("schemas") {
        schemas.retain(|s| !s.as_str().is_some_and(|s| rt.is_withheld(s)));
    }
}

/// Whether an attribute stays in the default projection; narrows its values when some
/// sub-attributes are never returned by default.
fn keep_default(def: &AttributeDef, value: &mut Value) -> bool {
    if matches!(def.returned, Returned::Never | Returned::Request) {
        return false;
    }
    if !def.is_complex() {
        return true;
    }
    let hidden = |name: &str| {
        def.sub_attribute(name)
            .is_some_and(|s| matches!(s.returned, Returned::Never | Returned::Request))
    };
    let narrows = def
        .sub_attributes
        .iter()
        .any(|s| matches!(s.returned, Returned::Never | Returned::Request));
    match value {
        Value::Object(obj) if narrows => obj.retain(|k, _| !hidden(k)),
        Value::Array(items) => {
            if narrows {
                for item in items.iter_mut() {
                    if let Value::Object(obj) = item {
                        obj.retain(|k, _| !hidden(k));
                    }
                }
            }
            if items
                .iter()
                .any(|v| matches!(v, Value::Object(o) if o.is_empty()))
            {
                items.retain(|v| !matches!(v, Value::Object(o) if o.is_empty()));
            }
        }
        _ => {}
    }
    true
}

/// Whether a path names the whole extension `urn`.
fn is_whole_schema(path: &AttrPath, urn: &str) -> bool {
    match &path.urn {
        Some(u) if path.name.is_empty() => u.eq_ignore_ascii_case(urn),
        Some(u) => {
            format!("{u}:{}", path.name).eq_ignore_ascii_case(urn) && path.sub_attr.is_none()
        }
        None => false,
    }
}

/// Whether `path` refers to `member` (or, for a whole extension, to anything in it).
fn path_touches(rt: &ResourceType, path: &AttrPath, member: &Member<'_>) -> bool {
    match member {
        Member::WholeExtension(urn) => {
            is_whole_schema(path, urn)
                || path
                    .urn
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(urn))
        }
        Member::Core(name) => {
            if let Some(u) = &path.urn
                && !rt.schema.id.eq_ignore_ascii_case(u)
            {
                return false;
            }
            path.name.eq_ignore_ascii_case(name)
        }
        Member::Extension(urn, name) => {
            if is_whole_schema(path, urn) {
                return true;
            }
            match &path.urn {
                Some(u) => u.eq_ignore_ascii_case(urn) && path.name.eq_ignore_ascii_case(name),
                // An unqualified path reaches an extension attribute only when the core
                // schema has no attribute of that name.
                None => {
                    path.name.eq_ignore_ascii_case(name)
                        && rt
                            .resolve(None, &path.name)
                            .and_then(|r| r.extension)
                            .is_some()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ENTERPRISE_USER_URN, ResourceKind};
    use serde_json::json;

    fn user_doc() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_URN],
            "id": "u1",
            "externalId": "e1",
            "userName": "ada",
            "password": "leaked?",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "a@x", "type": "work", "primary": true}],
            "active": true,
            ENTERPRISE_USER_URN: {"department": "R&D", "employeeNumber": "7"},
            "urn:example:custom": {"x": 1},
            "meta": {"resourceType": "User"}
        })
    }

    fn p(name: &str) -> AttrPath {
        crate::list::parse_attr_path(name).unwrap()
    }

    fn project(attrs: &[&str], excluded: &[&str]) -> Value {
        let rt = ResourceKind::User.resource_type();
        let mut doc = user_doc();
        Projection::new(
            attrs.iter().map(|a| p(a)).collect(),
            excluded.iter().map(|a| p(a)).collect(),
        )
        .apply(rt, &mut doc);
        doc
    }

    #[test]
    fn default_drops_only_never_attributes() {
        let doc = project(&[], &[]);
        assert!(doc.get("password").is_none());
        assert_eq!(doc["userName"], "ada");
        assert_eq!(doc[ENTERPRISE_USER_URN]["department"], "R&D");
        assert_eq!(doc["urn:example:custom"]["x"], 1);
    }

    #[test]
    fn attributes_keep_always_and_listed() {
        let doc = project(&["userName", "name.givenName", "PASSWORD"], &[]);
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["schemas", "id", "userName", "name"]);
        assert_eq!(doc["name"], json!({"givenName": "Ada"}));
    }

    #[test]
    fn attributes_reach_into_extensions() {
        let doc = project(
            &[&format!("{ENTERPRISE_USER_URN}:department"), "emails.value"],
            &[],
        );
        assert_eq!(doc[ENTERPRISE_USER_URN], json!({"department": "R&D"}));
        assert_eq!(doc["emails"], json!([{"value": "a@x"}]));
        let whole = project(&[ENTERPRISE_USER_URN], &[]);
        assert_eq!(whole[ENTERPRISE_USER_URN]["employeeNumber"], "7");
        assert!(whole.get("userName").is_none());
    }

    #[test]
    fn excluded_attributes_never_drop_always_ones() {
        let doc = project(
            &[],
            &["id", "schemas", "emails", "name.familyName", "department"],
        );
        assert_eq!(doc["id"], "u1");
        assert!(doc.get("schemas").is_some());
        assert!(doc.get("emails").is_none());
        assert_eq!(doc["name"], json!({"givenName": "Ada"}));
        assert_eq!(doc[ENTERPRISE_USER_URN], json!({"employeeNumber": "7"}));
        let no_ext = project(&[], &[ENTERPRISE_USER_URN]);
        assert!(no_ext.get(ENTERPRISE_USER_URN).is_none());
    }

    #[test]
    fn default_fast_path_equals_the_general_walk() {
        let group = ResourceKind::Group.resource_type();
        let user = ResourceKind::User.resource_type();
        let docs = [
            (user, user_doc()),
            (
                user,
                json!({"id": "u", "userName": "a", "emails": [{}, {"value": "x"}],
                       "name": {}, ENTERPRISE_USER_URN: {}, "urn:x": 5, "groups": [{"value": "g", "display": "G"}]}),
            ),
            (
                group,
                json!({"id": "g", "displayName": "Eng", "members": [
                    {"value": "u1", "display": "Ada", "type": "User", "$ref": "r"},
                    {"display": "only"}, "bare", {"VALUE": "u2", "Display": "x"}
                ]}),
            ),
            (group, json!({"members": {"value": "u1", "display": "Ada"}})),
            (group, json!("not an object")),
        ];
        for (rt, doc) in docs {
            let mut fast = doc.clone();
            Projection::default().apply(rt, &mut fast);
            let mut slow = doc.clone();
            Projection::default().apply_general(rt, &mut slow);
            assert_eq!(fast, slow, "{doc}");
        }
        let mut doc = json!({"displayName": "Eng", "members": [{"value": "u1", "display": "Ada"}]});
        Projection::default().apply(group, &mut doc);
        assert_eq!(doc["members"], json!([{"value": "u1"}]));
    }

    #[test]
    fn wants_tells_callers_what_to_load() {
        let rt = ResourceKind::Group.resource_type();
        assert!(Projection::default().wants(rt, "members"));
        assert!(!Projection::new(vec![], vec![p("members")]).wants(rt, "members"));
        assert!(!Projection::new(vec![p("displayName")], vec![]).wants(rt, "members"));
        assert!(Projection::new(vec![p("members.value")], vec![]).wants(rt, "members"));
    }
}
