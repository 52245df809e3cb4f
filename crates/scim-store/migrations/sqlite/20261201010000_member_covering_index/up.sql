-- A user's groups are read by (tenant_id, member_id). With the old two-column index SQLite
-- preferred the covering primary key (tenant_id, group_id, member_id) searched by tenant
-- alone, so every user read walked the tenant's memberships. Covering it with group_id
-- makes the member index the obvious choice on both backends.
DROP INDEX group_members_member_idx;
CREATE INDEX group_members_member_idx ON group_members (tenant_id, member_id, group_id);
