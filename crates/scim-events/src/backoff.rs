//! Retry timing and the disable rule, pure so that they can be tested exactly.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// The backoff before retry number `attempts` (1 after the first failure): a uniformly
/// random duration in `[0, min(min_backoff · 2^(attempts-1), max_backoff)]` ("full
/// jitter": retries of many subscriptions failing at once spread out instead of arriving
/// in waves). `unit` is a random number in `[0, 1)`.
pub fn backoff(attempts: i64, min_backoff: Duration, max_backoff: Duration, unit: f64) -> Duration {
    let exp = attempts.saturating_sub(1).clamp(0, 62) as u32;
    let ceiling = min_backoff
        .checked_mul(2u32.saturating_pow(exp.min(31)))
        .unwrap_or(max_backoff)
        .min(max_backoff);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

/// A uniformly random number in `[0, 1)` from the operating system, for [`backoff`] (0.5 if it fails: a
/// backoff is still a backoff).
pub fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        // 53 random bits: every value is an exact f64 below 1.
        Ok(()) => (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

/// When a failing subscription is to be disabled: `Some(reason)` once it has been failing
/// since `failing_since` for longer than `retry_window` at `now`, the reason naming the
/// start, the window and the last failure (secret-free), e.g. `failing since
/// 2026-12-01T00:00:00Z (72 h): HTTP 500`.
pub fn disable_reason(
    failing_since: DateTime<Utc>,
    now: DateTime<Utc>,
    retry_window: Duration,
    last_error: &str,
) -> Option<String> {
    let window = chrono::TimeDelta::from_std(retry_window).unwrap_or(chrono::TimeDelta::MAX);
    if now.signed_duration_since(failing_since) <= window {
        return None;
    }
    Some(format!(
        "failing since {} ({}): {last_error}",
        failing_since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        human(retry_window)
    ))
}

/// A window in the largest whole unit it is a multiple of: `72 h`, `90 s`, `250 ms`.
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "0 s".into()
    } else if ms.is_multiple_of(86_400_000) && ms >= 7 * 86_400_000 {
        format!("{} d", ms / 86_400_000)
    } else if ms.is_multiple_of(3_600_000) {
        format!("{} h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const S: Duration = Duration::from_secs(1);
    const H: Duration = Duration::from_secs(3600);

    #[test]
    fn ceilings_double_up_to_the_maximum() {
        // unit just below 1: the ceiling itself (within float rounding).
        let cases: &[(i64, Duration)] = &[
            (0, S),
            (1, S),
            (2, 2 * S),
            (3, 4 * S),
            (11, 1024 * S),
            (12, 2048 * S),
            (13, H),
            (40, H),
            (i64::MAX, H),
            (-5, S),
        ];
        for &(attempts, want) in cases {
            let got = backoff(attempts, S, H, 1.0);
            assert_eq!(got, want, "attempts {attempts}");
        }
    }

    #[test]
    fn jitter_spans_zero_to_the_ceiling() {
        assert_eq!(backoff(3, S, H, 0.0), Duration::ZERO);
        assert_eq!(backoff(3, S, H, 0.5), 2 * S);
        assert_eq!(backoff(3, S, H, 7.0), 4 * S, "clamped");
        for _ in 0..1000 {
            let u = random_unit();
            assert!((0.0..1.0).contains(&u));
            assert!(backoff(5, S, H, u) < 16 * S);
        }
    }

    #[test]
    fn disabled_only_past_the_window_with_a_reason() {
        let since = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let window = 72 * H;
        let at_edge = since + chrono::TimeDelta::hours(72);
        assert_eq!(disable_reason(since, at_edge, window, "HTTP 500"), None);
        assert_eq!(
            disable_reason(
                since,
                at_edge + chrono::TimeDelta::seconds(1),
                window,
                "HTTP 500"
            )
            .as_deref(),
            Some("failing since 2026-12-01T00:00:00Z (72 h): HTTP 500")
        );
        let short = disable_reason(
            since,
            since + chrono::TimeDelta::seconds(1),
            Duration::from_millis(300),
            "connection refused",
        );
        assert_eq!(
            short.as_deref(),
            Some("failing since 2026-12-01T00:00:00Z (300 ms): connection refused")
        );
    }

    #[test]
    fn windows_print_in_their_unit() {
        let cases = [
            (Duration::ZERO, "0 s"),
            (Duration::from_millis(250), "250 ms"),
            (Duration::from_secs(90), "90 s"),
            (Duration::from_secs(120), "2 min"),
            (72 * H, "72 h"),
            (Duration::from_secs(30 * 86_400), "30 d"),
        ];
        for (d, want) in cases {
            assert_eq!(human(d), want);
        }
    }
}
