DROP TABLE tenant_schemas;
ALTER TABLE tenants DROP COLUMN schema_version;
