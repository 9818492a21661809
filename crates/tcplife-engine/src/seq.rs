//! 32-bit TCP sequence arithmetic (RFC 9293 section 3.4): comparisons are modulo 2^32, so a
//! connection whose numbers wrap past zero keeps its order.

/// Signed distance from `b` to `a`: positive when `a` is after `b`.
pub(crate) const fn delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

pub(crate) const fn lt(a: u32, b: u32) -> bool {
    delta(a, b) < 0
}

pub(crate) const fn gt(a: u32, b: u32) -> bool {
    delta(a, b) > 0
}

pub(crate) fn max(a: u32, b: u32) -> u32 {
    if gt(a, b) {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_survives_wraparound() {
        assert!(lt(0xffff_fff0, 0x10));
        assert!(gt(0x10, 0xffff_fff0));
        assert_eq!(delta(0x10, 0xffff_fff0), 0x20);
        assert_eq!(max(0xffff_fff0, 0x10), 0x10);
        assert!(!lt(5, 5));
    }
}
