ALTER TABLE tenants DROP COLUMN profile;
