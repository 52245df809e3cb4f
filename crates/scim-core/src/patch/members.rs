//! What a PATCH request does to a group's `members`, said without reading them (the store
//! changes a membership by delta instead of rewriting the whole list).

use std::collections::HashSet;

/// What a PATCH request does to a group's `members`, said without reading them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDelta {
    /// `Some(ids)`: the membership is first set to exactly these ids (a `replace` of
    /// `members`, or a `remove` of `members` without filter or value = `Some(vec![])`);
    /// `None`: it starts from the current members. Ordered as first mentioned, without
    /// duplicates.
    pub replace_all: Option<Vec<String>>,
    /// Member ids added after that (ordered, no duplicates, disjoint from `remove`).
    pub add: Vec<String>,
    /// Member ids removed after that (ordered, no duplicates, disjoint from `add`).
    pub remove: Vec<String>,
}

impl MemberDelta {
    /// True when it changes nothing whatever the current members are.
    pub fn is_empty(&self) -> bool {
        self.replace_all.is_none() && self.add.is_empty() && self.remove.is_empty()
    }

    /// The resulting member ids given the current ones:
    /// `(replace_all.unwrap_or(current) ∪ add) − remove`, in kept order, then added order.
    pub fn apply_to(&self, current: &[String]) -> Vec<String> {
        let base = self.replace_all.as_deref().unwrap_or(current);
        let removed: HashSet<&str> = self.remove.iter().map(String::as_str).collect();
        let mut seen = HashSet::new();
        base.iter()
            .chain(self.add.iter())
            .filter(|id| !removed.contains(id.as_str()) && seen.insert(id.as_str()))
            .cloned()
            .collect()
    }
}
