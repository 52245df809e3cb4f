//! The core User schema (RFC 7643 §4.1, §8.7.1).

use super::{AttributeDef, AttributeType as T, Mutability, Returned, Schema, Uniqueness};

/// `urn:ietf:params:scim:schemas:core:2.0:User`.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

const fn multi(mut def: AttributeDef) -> AttributeDef {
    def.multi_valued = true;
    def
}

const fn read_only(mut def: AttributeDef) -> AttributeDef {
    def.mutability = Mutability::ReadOnly;
    def
}

const PRIMARY: AttributeDef = AttributeDef::typed(
    "primary",
    T::Boolean,
    "Whether this is the preferred value; at most one value may be primary.",
);
const DISPLAY: AttributeDef = AttributeDef::string(
    "display",
    "A human-readable name, primarily used for display purposes.",
);

/// The usual `value`/`display`/`type`/`primary` sub-attributes of a multi-valued attribute.
macro_rules! plural_subs {
    ($value:expr, [$($canon:expr),*]) => {
        &[
            $value,
            DISPLAY,
            AttributeDef {
                canonical_values: &[$($canon),*],
                ..AttributeDef::string("type", "A label indicating the attribute's function.")
            },
            PRIMARY,
        ]
    };
}

/// The core User schema.
pub static USER: Schema = Schema {
    id: USER_URN,
    name: "User",
    description: "User Account",
    attributes: &[
        AttributeDef {
            required: true,
            uniqueness: Uniqueness::Server,
            ..AttributeDef::string(
                "userName",
                "Unique identifier for the User, typically used to sign in. Unique per tenant, compared case-insensitively.",
            )
        },
        AttributeDef::complex(
            "name",
            "The components of the user's real name.",
            &[
                AttributeDef::string("formatted", "The full name, formatted for display."),
                AttributeDef::string("familyName", "The family name (last name)."),
                AttributeDef::string("givenName", "The given name (first name)."),
                AttributeDef::string("middleName", "The middle name(s)."),
                AttributeDef::string("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
                AttributeDef::string("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
            ],
        ),
        AttributeDef::string(
            "displayName",
            "The name of the User, suitable for display to end-users.",
        ),
        AttributeDef::string("nickName", "The casual way to address the user."),
        AttributeDef {
            reference_types: &["external"],
            ..AttributeDef::typed(
                "profileUrl",
                T::Reference,
                "A URI of the user's online profile.",
            )
        },
        AttributeDef::string("title", "The user's title, such as 'Vice President'."),
        AttributeDef::string(
            "userType",
            "The relationship between the organization and the user, e.g. 'Employee'.",
        ),
        AttributeDef::string(
            "preferredLanguage",
            "The user's preferred written or spoken language, e.g. 'en-US'.",
        ),
        AttributeDef::string("locale", "The user's default location, e.g. 'en-US'."),
        AttributeDef::string(
            "timezone",
            "The user's time zone in IANA format, e.g. 'America/Los_Angeles'.",
        ),
        AttributeDef::typed(
            "active",
            T::Boolean,
            "The user's administrative status: false when deactivated.",
        ),
        AttributeDef {
            mutability: Mutability::WriteOnly,
            returned: Returned::Never,
            ..AttributeDef::string(
                "password",
                "The user's cleartext password. Accepted and discarded; never stored or returned.",
            )
        },
        multi(AttributeDef::complex(
            "emails",
            "Email addresses for the user.",
            plural_subs!(
                AttributeDef::string("value", "The email address."),
                ["work", "home", "other"]
            ),
        )),
        multi(AttributeDef::complex(
            "phoneNumbers",
            "Phone numbers for the user.",
            plural_subs!(
                AttributeDef::string("value", "The phone number."),
                ["work", "home", "mobile", "fax", "pager", "other"]
            ),
        )),
        multi(AttributeDef::complex(
            "ims",
            "Instant messaging addresses for the user.",
            plural_subs!(
                AttributeDef::string("value", "The instant messaging address."),
                ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]
            ),
        )),
        multi(AttributeDef::complex(
            "photos",
            "URLs of images of the user.",
            plural_subs!(
                AttributeDef {
                    reference_types: &["external"],
                    ..AttributeDef::typed("value", T::Reference, "The URL of a photo of the user.")
                },
                ["photo", "thumbnail"]
            ),
        )),
        multi(AttributeDef::complex(
            "addresses",
            "Physical mailing addresses for this user.",
            &[
                AttributeDef::string(
                    "formatted",
                    "The full mailing address, formatted for display.",
                ),
                AttributeDef::string("streetAddress", "The full street address component."),
                AttributeDef::string("locality", "The city or locality component."),
                AttributeDef::string("region", "The state or region component."),
                AttributeDef::string("postalCode", "The zip code or postal code component."),
                AttributeDef::string("country", "The country name component, ISO 3166-1 alpha-2."),
                AttributeDef {
                    canonical_values: &["work", "home", "other"],
                    ..AttributeDef::string("type", "A label indicating the address's function.")
                },
                PRIMARY,
            ],
        )),
        read_only(multi(AttributeDef::complex(
            "groups",
            "The groups the user belongs to, derived from group membership.",
            &[
                read_only(AttributeDef {
                    case_exact: true,
                    ..AttributeDef::string("value", "The identifier of the user's group.")
                }),
                read_only(AttributeDef {
                    case_exact: true,
                    reference_types: &["User", "Group"],
                    ..AttributeDef::typed("$ref", T::Reference, "The URI of the group resource.")
                }),
                read_only(AttributeDef::string(
                    "display",
                    "The displayName of the group.",
                )),
                read_only(AttributeDef {
                    canonical_values: &["direct", "indirect"],
                    ..AttributeDef::string("type", "Whether membership is direct or indirect.")
                }),
            ],
        ))),
        multi(AttributeDef::complex(
            "entitlements",
            "Entitlements for the user.",
            plural_subs!(
                AttributeDef::string("value", "The value of an entitlement."),
                // The interop profile wants canonicalValues on every `type`; RFC 7643
                // names none for these three, so the list is ours (docs/profiles.md).
                ["other"]
            ),
        )),
        multi(AttributeDef::complex(
            "roles",
            "Roles for the user.",
            plural_subs!(
                AttributeDef::string("value", "The value of a role."),
                // Entra ID's role type, and a catch-all.
                ["WindowsAzureActiveDirectoryRole", "other"]
            ),
        )),
        multi(AttributeDef::complex(
            "x509Certificates",
            "X.509 certificates issued to the user.",
            plural_subs!(
                AttributeDef {
                    // Binary values are case exact (RFC 7643 §2.3.6).
                    case_exact: true,
                    ..AttributeDef::typed(
                        "value",
                        T::Binary,
                        "The value of an X.509 certificate (base64 DER)."
                    )
                },
                ["work", "other"]
            ),
        )),
    ],
    closed: false,
};
