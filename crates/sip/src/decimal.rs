//! Decimal text without the formatting machinery, for what every message writes (ports in
//! transaction keys, expiries in a registrar's 200, status codes and Content-Length in
//! built messages): `write!` costs more than the digits.

/// Appends `n` in decimal: what `write!(out, "{n}")` gives.
pub fn push_decimal(out: &mut String, n: u64) {
    let mut scratch = [0u8; 20];
    // Digits are ASCII, so the check always passes; pushed as one str, not char by char.
    out.push_str(std::str::from_utf8(digits(n, &mut scratch)).unwrap_or_default());
}

/// The decimal digits of `n`, written at the end of `scratch` (20 digits hold any `u64`).
pub fn digits(mut n: u64, scratch: &mut [u8; 20]) -> &[u8] {
    let mut at = scratch.len();
    loop {
        at -= 1;
        scratch[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &scratch[at..]
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3261 §25.1: ports and delta-seconds are plain DIGIT runs, as formatting writes them.
    #[test]
    fn rfc3261_25_1_decimals_as_formatting_writes_them() {
        for n in [0, 7, 10, 5060, 65_535, u64::from(u32::MAX), u64::MAX] {
            let mut out = String::from("x");
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }
}
