//! The filter abstract syntax tree (RFC 7644 §3.4.2.2).

/// An attribute path: an optional schema URN, an attribute name and an optional
/// sub-attribute, e.g. `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
///
/// Names keep the letter case the client wrote; comparisons against schema names ignore
/// case. Inside a value filter (`emails[type eq "work"]`) the `name` is a sub-attribute of
/// the enclosing attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, without the trailing `:`.
    pub urn: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute name, after a `.`.
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A path to a top-level attribute with no URN and no sub-attribute.
    pub fn new(name: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// The same path with a sub-attribute.
    pub fn with_sub_attr(mut self, sub_attr: impl Into<String>) -> Self {
        self.sub_attr = Some(sub_attr.into());
        self
    }

    /// The same path with a schema URN prefix.
    pub fn with_urn(mut self, urn: impl Into<String>) -> Self {
        self.urn = Some(urn.into());
        self
    }
}

/// An attribute operator (RFC 7644 §3.4.2.2, Table 3), `pr` excepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal to.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal to.
    Le,
}

impl CompareOp {
    /// The operator keyword in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Whether the operator orders values (`gt`, `ge`, `lt`, `le`).
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }
}

/// A comparison value: a JSON literal (RFC 7644 `compValue`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number, kept as written.
    Number(serde_json::Number),
    /// A JSON string, unescaped.
    String(String),
}

/// A SCIM filter expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Filter {
    /// `attrPath op value`.
    Compare(AttrPath, CompareOp, CompValue),
    /// `attrPath pr`.
    Present(AttrPath),
    /// `not (filter)`.
    Not(Box<Filter>),
    /// `filter and filter`.
    And(Box<Filter>, Box<Filter>),
    /// `filter or filter`.
    Or(Box<Filter>, Box<Filter>),
    /// `attrPath[valFilter]`: the inner filter must hold for one and the same value of the
    /// multi-valued (or complex) attribute. The path has no sub-attribute; paths inside the
    /// inner filter name sub-attributes of that value.
    ///
    /// Entra's `emails[type eq "work"].value eq "x"` parses to the equivalent
    /// `emails[type eq "work" and value eq "x"]`.
    ValuePath(AttrPath, Box<Filter>),
}
