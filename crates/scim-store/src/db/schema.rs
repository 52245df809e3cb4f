//! The diesel table definitions, shared by both backends (the migrations under
//! `migrations/{sqlite,postgres}` create the same columns with backend-specific types).
#![allow(missing_docs)]

diesel::table! {
    tenants (id) {
        id -> Text,
        name -> Text,
        created -> Timestamp,
        current_token_id -> Nullable<Text>,
        token_generated_at -> Nullable<Timestamp>,
        token_last_used_at -> Nullable<Timestamp>,
        token_hash -> Nullable<Text>,
        paused_at -> Nullable<Timestamp>,
        profile -> Text,
        schema_version -> BigInt,
    }
}

diesel::table! {
    tenant_schemas (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        extends -> Text,
        required -> Bool,
        active -> Bool,
        document -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
    }
}

diesel::table! {
    users (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        user_name -> Text,
        user_name_lower -> Text,
        external_id -> Nullable<Text>,
        active -> Nullable<Bool>,
        display_name -> Nullable<Text>,
        display_name_lower -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        document -> Text,
        version -> BigInt,
        created -> Timestamp,
        last_modified -> Timestamp,
    }
}

diesel::table! {
    user_emails (tenant_id, user_id, position) {
        tenant_id -> Text,
        user_id -> Text,
        position -> Integer,
        value -> Text,
        value_lower -> Text,
        email_type -> Nullable<Text>,
        is_primary -> Bool,
    }
}

diesel::table! {
    groups (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        display_name -> Text,
        display_name_lower -> Text,
        external_id -> Nullable<Text>,
        document -> Text,
        version -> BigInt,
        created -> Timestamp,
        last_modified -> Timestamp,
    }
}

diesel::table! {
    group_members (tenant_id, group_id, member_id) {
        tenant_id -> Text,
        group_id -> Text,
        member_id -> Text,
        member_type -> Text,
    }
}

diesel::table! {
    server_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    provisioning_log (id) {
        id -> BigInt,
        tenant_id -> Text,
        at -> Timestamp,
        token_id -> Nullable<Text>,
        operation -> Text,
        resource_type -> Text,
        resource_id -> Text,
        summary -> Text,
        event_first -> Nullable<BigInt>,
        event_last -> Nullable<BigInt>,
    }
}

diesel::table! {
    entitlement_types (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        id_lower -> Text,
        name -> Text,
        endpoint -> Text,
        endpoint_lower -> Text,
        created -> Timestamp,
    }
}

diesel::table! {
    entitlement_values (tenant_id, id) {
        tenant_id -> Text,
        id -> Text,
        kind -> Text,
        value -> Text,
        display -> Text,
        created -> Timestamp,
    }
}

diesel::table! {
    request_log (id) {
        id -> BigInt,
        tenant_id -> Text,
        at -> Timestamp,
        method -> Text,
        path -> Text,
        status -> Integer,
        action -> Text,
        scim_type -> Nullable<Text>,
        latency_ms -> BigInt,
        client -> Text,
        resource_id -> Nullable<Text>,
        summary -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    user_emails,
    groups,
    group_members,
    provisioning_log
);

diesel::table! {
    admin_accounts (id) {
        id -> Text,
        email -> Text,
        email_lower -> Text,
        password_hash -> Text,
        tenant_id -> Nullable<Text>,
        created -> Timestamp,
        last_sign_in -> Nullable<Timestamp>,
        api_token_sha256 -> Nullable<Text>,
    }
}

diesel::table! {
    admin_sessions (id_sha256) {
        id_sha256 -> Text,
        account_id -> Text,
        created -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(admin_sessions -> admin_accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(admin_sessions, admin_accounts);

diesel::table! {
    admin_sign_in_failures (id) {
        id -> BigInt,
        email_lower -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    resource_counts (tenant_id, resource_type, shard) {
        tenant_id -> Text,
        resource_type -> Text,
        shard -> Integer,
        inserted -> BigInt,
        deleted -> BigInt,
    }
}

diesel::table! {
    events (tenant_id, position) {
        tenant_id -> Text,
        position -> BigInt,
        jti -> Text,
        txn -> Text,
        event_type -> Text,
        resource_type -> Text,
        resource_id -> Text,
        external_id -> Nullable<Text>,
        version -> Nullable<BigInt>,
        data -> Nullable<Text>,
        attributes -> Text,
        group_id -> Nullable<Text>,
        group_external_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_sequences (tenant_id) {
        tenant_id -> Text,
        last_position -> BigInt,
    }
}

diesel::table! {
    event_subscriptions (tenant_id, id) {
        id -> Text,
        tenant_id -> Text,
        target -> Text,
        mode -> Text,
        events -> Nullable<Text>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        cursor -> BigInt,
        attempts -> BigInt,
        failing_since -> Nullable<Timestamp>,
        next_attempt -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    event_deliveries (id) {
        id -> BigInt,
        tenant_id -> Text,
        subscription_id -> Text,
        position -> BigInt,
        jti -> Text,
        event_type -> Text,
        attempt -> BigInt,
        redelivery -> Bool,
        at -> Timestamp,
        outcome -> Text,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
        next_try -> Nullable<Timestamp>,
    }
}

diesel::table! {
    event_redeliveries (subscription_id, position) {
        subscription_id -> Text,
        position -> BigInt,
        tenant_id -> Text,
        queued_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    events,
    event_sequences,
    event_subscriptions,
    event_deliveries,
    event_redeliveries
);
