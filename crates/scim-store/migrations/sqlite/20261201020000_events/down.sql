ALTER TABLE provisioning_log DROP COLUMN event_last;
ALTER TABLE provisioning_log DROP COLUMN event_first;
DROP TABLE event_redeliveries;
DROP TABLE event_deliveries;
DROP TABLE event_subscriptions;
DROP TABLE event_sequences;
DROP TABLE events;
