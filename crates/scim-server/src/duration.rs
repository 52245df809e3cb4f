//! Durations on the command line: a whole number of seconds, as every older flag takes
//! (`--shutdown-timeout 30`), or a number with one unit suffix (`500ms`, `10s`, `5m`,
//! `72h`, `30d`), so that the event settings' defaults read as what they mean.

use std::time::Duration;

/// Parses `30`, `30s`, `500ms`, `5m`, `72h` or `30d` (no sign, no fraction, no spaces
/// inside). A bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "{text:?} is not a duration (a whole number with an optional unit: ms, s, m, h, d; e.g. 10s, 72h, 30d)"
        ));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is too large for a duration"))?;
    let seconds = |factor: u64| {
        n.checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("{text:?} is too large for a duration"))
    };
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        other => Err(format!(
            "unknown unit {other:?} in {text:?} (use ms, s, m, h or d)"
        )),
    }
}

/// The shortest exact text [`parse_duration`] reads back, for messages and logs.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    for (unit, factor) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if s != 0 && s.is_multiple_of(factor) {
            return format!("{}{unit}", s / factor);
        }
    }
    format!("{s}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_or_without_a_unit() {
        let ok: &[(&str, Duration)] = &[
            ("0", Duration::ZERO),
            ("30", Duration::from_secs(30)),
            (" 10s ", Duration::from_secs(10)),
            ("250ms", Duration::from_millis(250)),
            ("5m", Duration::from_secs(300)),
            ("72h", Duration::from_secs(72 * 3600)),
            ("30d", Duration::from_secs(30 * 86_400)),
        ];
        for (text, want) in ok {
            assert_eq!(parse_duration(text).as_ref(), Ok(want), "{text:?}");
        }
        for bad in [
            "",
            "s",
            "-1s",
            "1.5h",
            "10 s",
            "10sec",
            "3w",
            "99999999999999999999",
            "999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn durations_format_back_to_what_parses() {
        for text in [
            "0s", "250ms", "1500ms", "10s", "5m", "90m", "36h", "3d", "30d",
        ] {
            let d = parse_duration(text).unwrap();
            assert_eq!(format_duration(d), text);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
