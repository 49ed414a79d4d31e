//! The store battery: every test runs against SQLite (a temp file per test) and PostgreSQL
//! (a fresh schema per test at `HOTDESK_TEST_PG`, default `postgres://postgres@127.0.0.1:5432/test`).
//!
//! Tests live in one file per aggregate and take the store as `Arc<dyn Store>`; `durability`
//! tests take the [`fixture::Fixture`] so they can reopen it. When PostgreSQL is unreachable
//! the PostgreSQL half says so loudly and skips, unless `HOTDESK_REQUIRE_PG=1` (CI).

mod associations;
mod audit;
mod bindings;
mod cdrs;
mod devices;
mod domains;
mod durability;
mod fixture;
mod prov;
mod queues;
mod sample;
mod tokens;
mod users;

/// Stamps out one `#[tokio::test]` per back end and test, as `<backend>::<module>::<test>`.
macro_rules! battery {
    (
        store { $($module:ident: [$($test:ident),* $(,)?]),* $(,)? }
        fixture { $($fmodule:ident: [$($ftest:ident),* $(,)?]),* $(,)? }
    ) => {
        battery!(@backend sqlite, sqlite;
            store { $($module: [$($test),*]),* } fixture { $($fmodule: [$($ftest),*]),* });
        battery!(@backend postgres, postgres;
            store { $($module: [$($test),*]),* } fixture { $($fmodule: [$($ftest),*]),* });
    };
    (@backend $backend:ident, $open:ident;
        store { $($module:ident: [$($test:ident),*]),* }
        fixture { $($fmodule:ident: [$($ftest:ident),*]),* }
    ) => {
        mod $backend {
            $(mod $module {
                $(#[tokio::test]
                async fn $test() {
                    let Some(fixture) = crate::fixture::Fixture::$open().await else { return };
                    crate::$module::$test(fixture.store()).await;
                })*
            })*
            $(mod $fmodule {
                $(#[tokio::test]
                async fn $ftest() {
                    let Some(mut fixture) = crate::fixture::Fixture::$open().await else { return };
                    crate::$fmodule::$ftest(&mut fixture).await;
                })*
            })*
        }
    };
}

battery! {
    store {
        prov: [hd_prov_2_records_upsert_list_and_delete],
        queues: [hd_route_7_queue_round_trip_update_and_delete],
        domains: [
            domain_round_trip_keeps_every_setting,
            domain_name_taken_is_conflict,
            domain_update_replaces_settings_or_is_not_found,
            hd_sec_1_domain_delete_cascades_to_its_rows_only,
            domain_delete_of_unknown_is_not_found,
            trunk_round_trip_and_name_conflict_per_domain,
            trunk_in_unknown_domain_is_not_found,
        ],
        users: [
            user_round_trip_keeps_every_field,
            hd_sec_1_same_extension_in_two_domains_but_not_twice_in_one,
            user_in_unknown_domain_is_not_found,
            user_update_replaces_or_is_not_found,
            user_delete_takes_associations_and_tokens,
            import_of_10000_users_in_one_transaction,
            import_is_all_or_nothing,
            sql_injection_looking_strings_are_stored_verbatim,
        ],
        devices: [
            device_round_trip_keeps_location_and_soft_keys,
            device_extension_taken_is_conflict_per_domain,
            hd_prov_1_mac_is_unique_across_domains,
            device_update_replaces_checks_mac_or_is_not_found,
            hd_prov_2_update_many_devices_in_one_transaction,
            device_delete_takes_its_association,
            device_in_unknown_domain_is_not_found,
        ],
        associations: [
            hd_login_1_login_writes_association_and_audit_together,
            hd_login_3_login_replaces_the_device_row,
            hd_login_4_one_user_on_several_devices,
            hd_logout_1_logout_deletes_the_row_and_audits,
            stale_logout_keeps_a_newer_login,
            failed_batch_leaves_no_trace,
            hd_logout_2_touch_records_activity_or_is_not_found,
            association_times_round_trip_exactly,
        ],
        audit: [
            audit_filters_by_user_device_and_time_newest_first,
            audit_limit_keeps_the_newest,
            hd_sec_1_audit_is_per_domain,
            audit_since_spans_domains_oldest_first,
            audit_detail_and_strings_round_trip_verbatim,
            audit_in_unknown_domain_is_not_found,
        ],
        cdrs: [
            hd_cdr_1_cdr_round_trip_keeps_anchor_and_user,
            hd_cdr_2_filters_by_user_device_time_and_limit,
            hd_sec_1_cdrs_are_per_domain,
            cdr_in_unknown_domain_is_not_found,
            hd_cdr_1_batch_is_written_whole_or_not_at_all,
        ],
        tokens: [
            hd_sec_4_token_found_by_hash_only,
            token_hash_taken_is_conflict,
            token_delete_is_idempotent,
            token_dies_with_its_user_and_domain,
            token_for_unknown_domain_is_not_found,
        ],
        bindings: [
            binding_round_trip_keeps_every_field,
            binding_refresh_replaces_same_contact_only,
            binding_delete_is_idempotent,
            binding_in_unknown_domain_is_not_found,
            binding_batch_applies_deletes_then_puts,
            binding_batch_is_all_or_nothing,
            binding_batch_of_many_rows_keeps_the_last_put,
        ],
    }
    fixture {
        durability: [
            everything_survives_reopening,
            writes_after_reopen_continue_the_sequence,
        ],
    }
}
