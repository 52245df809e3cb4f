DROP TABLE entitlement_values;
DROP TABLE entitlement_types;
