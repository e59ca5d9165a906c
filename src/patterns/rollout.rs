//! Feature flags: a [`Rollout`] that admits a deterministic percentage of
//! subjects, with allow and deny lists. A subject's place in a flag's
//! rollout is [`bucket`]: a hash of the flag's name and the subject, the
//! same on every platform and every version of kvgen, so raising a flag's
//! percentage only ever adds subjects.

use serde::{Deserialize, Serialize};

/// How many buckets there are: a rollout's granularity is 0.01 %.
pub const BUCKETS: u32 = 10_000;

/// The bucket of `subject` in flag `flag`'s rollout, in `0..BUCKETS`.
///
/// 64-bit FNV-1a over the flag's name, a zero byte and the subject, then a
/// 64-bit finalizing mix (FNV-1a alone spreads its low bits poorly).
/// Stable: a change to this function would move users between cohorts,
/// and a test pins its values.
///
/// ```
/// use kvgen::rollout::{bucket, BUCKETS};
///
/// let b = bucket("new-editor", "user-42");
/// assert!(b < BUCKETS);
/// assert_eq!(b, bucket("new-editor", "user-42"), "the same everywhere, every time");
/// // Each flag places subjects anew: the same users are not always first.
/// let first = |flag: &str| (0..100).filter(|i| bucket(flag, &format!("user-{i}")) < 1_000).collect::<Vec<_>>();
/// assert_ne!(first("new-editor"), first("dark-mode"));
/// ```
pub fn bucket(flag: &str, subject: &str) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in flag.bytes().chain([0]).chain(subject.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h % u64::from(BUCKETS)) as u32
}

/// Who a flag is on for: off for everyone while `enabled` is false; then
/// off for `deny`, on for `allow`, and on for `percent` of everyone else.
///
/// ```
/// use kvgen::rollout::Rollout;
///
/// let mut flag = Rollout { enabled: true, percent: 25.0, allow: vec!["ada".into()], deny: vec!["bob".into()] };
/// assert_eq!(flag.threshold(), 2_500);
/// assert!(flag.admits("new-editor", "ada") && !flag.admits("new-editor", "bob"));
/// let users: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
/// let on = |flag: &Rollout| users.iter().filter(|u| flag.admits("new-editor", u)).cloned().collect::<Vec<_>>();
/// let quarter = on(&flag);
/// assert!((2_300..2_700).contains(&quarter.len()), "{}", quarter.len());
///
/// // Raising the percentage only adds subjects.
/// flag.percent = 50.0;
/// let half = on(&flag);
/// assert!(quarter.iter().all(|u| half.contains(u)) && half.len() > quarter.len());
///
/// // The kill switch wins over everything.
/// flag.enabled = false;
/// assert!(!flag.admits("new-editor", "ada"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    /// The kill switch: false turns the flag off for everyone.
    pub enabled: bool,
    /// The share of subjects it is on for, 0 to 100 in steps of 0.01.
    pub percent: f64,
    /// Subjects it is always on for (while enabled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Subjects it is always off for; wins over `allow`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

impl Rollout {
    /// Whether flag `flag` is on for `subject`.
    pub fn admits(&self, flag: &str, subject: &str) -> bool {
        if !self.enabled || self.deny.iter().any(|s| s == subject) {
            return false;
        }
        if self.allow.iter().any(|s| s == subject) {
            return true;
        }
        bucket(flag, subject) < self.threshold()
    }

    /// How many buckets are on: `percent` in hundredths, clamped to 0..=100 %.
    pub fn threshold(&self) -> u32 {
        let p = if self.percent.is_nan() { 0.0 } else { self.percent.clamp(0.0, 100.0) };
        (p * 100.0).round() as u32
    }
}
