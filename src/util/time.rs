//! UTC day arithmetic on unix seconds.

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Start (00:00 UTC) of the day holding `ts` (rounds down, also for negative times).
#[inline]
pub fn day_start(ts: i64) -> i64 {
    ts.div_euclid(DAY) * DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_start_handles_negative_times() {
        assert_eq!(day_start(DAY + 5), DAY);
        assert_eq!(day_start(-1), -DAY);
        assert_eq!(day_start(0), 0);
        assert_eq!(day_start(-DAY), -DAY);
        for ts in [-3 * DAY - 7, -1, 0, 1, 17 * DAY + 86_399] {
            assert_eq!(day_start(ts), ts - ts.rem_euclid(DAY));
        }
    }
}
