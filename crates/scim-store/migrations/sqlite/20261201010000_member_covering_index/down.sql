DROP INDEX group_members_member_idx;
CREATE INDEX group_members_member_idx ON group_members (tenant_id, member_id);
