-- The organization's conformance profile (issue 11): 'strict' follows every
-- service-provider MUST of the SCIM interop profile, 'lenient' (the default, and every
-- existing organization) keeps today's tolerance of Okta and Entra ID shapes. Read with the
-- tenant row on every request (scim-http Authenticated::check), so a change takes effect
-- on the next request on every replica.
ALTER TABLE tenants ADD COLUMN profile TEXT NOT NULL DEFAULT 'lenient' CHECK (profile IN ('strict', 'lenient'));
