//! The storage conformance suite: every test is written once against the `scim-store`
//! traits and instantiated for each backend by [`conformance!`]: SQLite (a fresh temp
//! database file per test) and PostgreSQL (a fresh schema per test in the database of
//! `SCIM_TEST_DATABASE_URL`, dropped afterwards). Without that variable the PostgreSQL
//! tests print a loud SKIP and pass, except under `CI=true`, where they fail.
//!
//! Run: `scripts/test -p scim-store` (starts PostgreSQL and sets the variable), or
//! `SCIM_TEST_DATABASE_URL=postgres://… cargo test -p scim-store --test conformance`.

// Test code: failing loudly is the point (clippy.toml's allow-*-in-tests covers only
// `#[test]` functions, not the shared helpers of an integration-test crate).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod admin;
mod budgets;
mod bulk_creates;
mod contention;
mod crud;
mod deltas;
mod entitlements;
mod events;
mod feed_order;
mod filters;
mod isolation;
mod leases;
mod members;
mod paging;
mod pg_races;
mod plans;
mod requests;
mod subscriptions;
mod tenant_schemas;
mod tokens_log;
mod walks;

/// Instantiates each listed test once per backend: `sqlite::<name>` and `postgres::<name>`.
macro_rules! conformance {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let db = crate::support::sqlite();
                    crate::$module::$name(&db);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(db) = crate::support::postgres() {
                        crate::$module::$name(&db);
                    }
                }
            )*
        }
    };
}

conformance!(
    bulk_creates::create_each_gives_each_resource_its_own_outcome,
    bulk_creates::create_each_stops_after_max_errors,
    bulk_creates::create_each_groups_fail_alone,
    tenant_schemas::tenant_schemas_put_list_remove_and_version,
    tenant_schemas::tenant_schemas_are_isolated_and_deleted_with_the_tenant,
    tenant_schemas::tenant_schemas_filter_on_extension_attributes,
    requests::batches_keep_existing_tenants_and_filter,
    requests::request_pages_are_keyset_newest_first,
    requests::requests_are_pruned_by_age_and_deleted_with_their_tenant,
    requests::write_entries_commit_with_the_write,
    budgets::scan_budget_bounds_unindexed_filters,
    budgets::statement_timeout_cancels_into_clean_errors,
    admin::admin_accounts_unique_email_and_tenant,
    admin::first_operator_only_once,
    admin::sign_in_failures_window,
    admin::parallel_sign_in_attempts_never_exceed_the_limit,
    admin::admin_sessions_by_hash_expire_and_end,
    admin::settings_put_and_delete,
    crud::create_get_roundtrip,
    crud::timestamps_are_utc_millis,
    crud::replace_bumps_version_only_on_change,
    crud::version_conflicts,
    crud::delete_removes_and_is_not_found_after,
    crud::username_unique_case_insensitive,
    crud::group_display_name_unique_case_insensitive,
    crud::concurrent_duplicate_creates,
    crud::settings_get_or_init_is_race_safe,
    crud::migrations_are_idempotent_and_newer_schema_is_refused,
    crud::errors_never_show_backend_text,
    crud::concurrent_unconditional_replaces_all_apply,
    entitlements::values_crud_and_uniqueness,
    entitlements::quick_definitions_keep_their_order,
    entitlements::custom_types_crud,
    entitlements::value_pages_and_filters,
    entitlements::session_reads_types_pages_and_catalog,
    entitlements::values_are_tenant_scoped,
    deltas::member_deltas_equal_full_recomputation,
    deltas::member_delta_rejects_bad_references,
    deltas::member_delta_with_attribute_change,
    deltas::concurrent_member_adds_all_land,
    deltas::deleting_a_user_while_it_is_added_leaves_no_dangling_row,
    deltas::update_is_one_transaction,
    deltas::create_many_is_all_or_nothing_and_counted,
    isolation::same_user_name_in_two_tenants,
    isolation::cross_tenant_access_is_not_found,
    members::members_and_groups_are_derived,
    members::invalid_and_cross_tenant_members_are_rejected,
    members::deleting_removes_memberships,
    members::list_without_relations_skips_them,
    paging::pages_of_seven_over_fifty_users,
    paging::sorted_pages_are_stable,
    paging::count_zero_returns_only_total,
    paging::fallback_filter_pages_and_counts,
    paging::cursor_pages_follow_the_default_order,
    paging::deep_index_pages_equal_offset_slices,
    paging::large_pushed_down_results_page_in_sql,
    paging::unfiltered_totals_equal_count_star,
    walks::index_walks_equal_offset_slices,
    walks::cursor_walks_visit_each_row_once,
    walks::walks_under_concurrent_writes,
    tokens_log::token_rotation,
    tokens_log::concurrent_rotations_have_one_winner,
    tokens_log::pause_and_resume,
    tokens_log::profile_per_tenant,
    tokens_log::legacy_token_upgrade,
    tokens_log::concurrent_legacy_upgrades,
    tokens_log::log_rows_follow_changes,
    tokens_log::log_not_written_when_change_fails,
    filters::indexed_filters_examples,
    filters::pushed_down_filters_agree_with_evaluator,
    filters::long_filters_stay_within_the_stack,
    plans::indexed_lookups_use_indexes,
    plans::keyset_pages_walk_the_created_index,
    plans::event_pages_scan_the_feed_key,
    events::each_write_produces_its_events,
    events::member_delta_remove_and_readd,
    events::create_many_appends_one_event_per_resource,
    events::positions_are_per_tenant_and_gap_free,
    events::failed_writes_append_nothing,
    events::log_rows_carry_their_event_range,
    events::large_changes_append_every_event,
    events::missing_counter_row_loses_no_event,
    feed_order::concurrent_writers_keep_the_feed_in_commit_order,
    subscriptions::subscription_crud,
    subscriptions::subscriptions_are_tenant_scoped,
    subscriptions::replay_moves_the_cursor_within_the_feed,
    leases::claims_take_due_subscriptions_with_work,
    leases::leases_expire_and_fence_every_worker_write,
    leases::attempts_move_the_cursor_or_back_off,
    leases::delivery_log_pages_and_filters,
    leases::prune_drops_old_prefixes_and_never_reuses_positions,
    leases::concurrent_claimers_never_share_a_subscription,
    leases::commit_listener_runs_after_commit,
);
