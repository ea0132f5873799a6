//! Per-client token buckets for the public ledger endpoints: each proof or checkpoint
//! request costs a token; tokens refill at a steady rate up to the bucket's size. An empty
//! bucket answers 429 with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Token buckets by client: an address for anonymous reads, a user id for uploads (a hall's
/// windows share one address behind its NAT; each clerk and applicant has a bucket).
#[derive(Debug)]
pub struct RateLimit<K = IpAddr> {
    inner: Mutex<Inner<K>>,
}

#[derive(Debug)]
struct Inner<K> {
    burst: f64,
    per_second: f64,
    buckets: HashMap<K, (f64, Instant)>,
}

/// Clients tracked before idle buckets are dropped.
const MAX_CLIENTS: usize = 100_000;

impl<K: std::hash::Hash + Eq> RateLimit<K> {
    pub fn new(burst: u32, per_second: u32) -> Self {
        RateLimit {
            inner: Mutex::new(Inner {
                burst: f64::from(burst.max(1)),
                per_second: f64::from(per_second.max(1)),
                buckets: HashMap::new(),
            }),
        }
    }

    /// Changes the limits (configuration, tests); buckets start afresh.
    pub fn set(&self, burst: u32, per_second: u32) {
        let mut i = self.inner.lock().expect("rate limit");
        i.burst = f64::from(burst.max(1));
        i.per_second = f64::from(per_second.max(1));
        i.buckets.clear();
    }

    /// Takes a token for `client` at `now`: Ok, or how long until one is available.
    pub fn take(&self, client: K, now: Instant) -> Result<(), Duration> {
        let mut i = self.inner.lock().expect("rate limit");
        let (burst, rate) = (i.burst, i.per_second);
        if i.buckets.len() >= MAX_CLIENTS {
            // Drop the buckets that are full again anyway.
            i.buckets
                .retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = i.buckets.entry(client).or_insert((burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / rate))
        }
    }
}

impl Default for RateLimit {
    /// 600 requests at once, then 30 a second, per client address.
    fn default() -> Self {
        RateLimit::new(600, 30)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_refills() {
        let l = RateLimit::new(3, 2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.take(a, t).is_ok());
        }
        let wait = l.take(a, t).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        // Another client has its own bucket.
        assert!(l.take(b, t).is_ok());
        // Half a second later one token is back (2 a second).
        assert!(l.take(a, t + Duration::from_millis(500)).is_ok());
        assert!(l.take(a, t + Duration::from_millis(500)).is_err());
    }
}
