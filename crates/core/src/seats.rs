//! The multi-desk allocation pool (HD-LOGIN-5, seed 004).
//!
//! Standard and Advanced seats give 5 allocations each, Basic seats 1; the pool is spread
//! over extensions "in any quantity from 1 to 5 per extension regardless of which seat type
//! was intended for the extension" (seed 004), so the range is 1–5 for every seat type.
//!
//! A domain with no seats configured (all counts zero, the default) does not enforce the
//! pool: licensing is opt-in, so a fresh domain can have users before anyone sets seats.

use crate::domain::Seats;
use crate::login::MAX_ALLOCATION;
use crate::refusal::Refusal;
use crate::user::User;

/// Whether the domain enforces the pool (any seat count set).
pub fn is_enforced(seats: &Seats) -> bool {
    seats.pool() > 0
}

/// Allocations handed out in a domain: the sum of its users' allocations (1–5 each).
pub fn allocation_in_use<'a>(users: impl IntoIterator<Item = &'a User>) -> u64 {
    users
        .into_iter()
        .map(|u| u64::from(u.max_devices.clamp(1, MAX_ALLOCATION)))
        .sum()
}

/// Checks setting one user's allocation to `requested`. `in_use` is the domain's total
/// now ([`allocation_in_use`]), `current` the user's allocation now (`None` for a new
/// user), so `in_use - current` is what the others hold.
pub fn check_allocation(
    seats: &Seats,
    in_use: u64,
    current: Option<u8>,
    requested: u8,
) -> Result<(), Refusal> {
    if !(1..=MAX_ALLOCATION).contains(&requested) {
        return Err(Refusal::AllocationOutOfRange {
            max: MAX_ALLOCATION,
        });
    }
    if !is_enforced(seats) {
        return Ok(());
    }
    let others =
        in_use.saturating_sub(current.map_or(0, |c| u64::from(c.clamp(1, MAX_ALLOCATION))));
    let pool = seats.pool();
    if others + u64::from(requested) > pool {
        return Err(Refusal::PoolExceeded {
            pool,
            used: others,
            requested: u64::from(requested),
        });
    }
    Ok(())
}

/// Checks new seat counts against the allocations already handed out: lowering the pool
/// below them is refused (`requested` = 0: no allocation is being added).
pub fn check_seats(seats: &Seats, in_use: u64) -> Result<(), Refusal> {
    let pool = seats.pool();
    if is_enforced(seats) && in_use > pool {
        return Err(Refusal::PoolExceeded {
            pool,
            used: in_use,
            requested: 0,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::user;

    fn seats(standard: u32, advanced: u32, basic: u32) -> Seats {
        Seats {
            standard,
            advanced,
            basic,
        }
    }

    #[test]
    fn hd_login_5_pool_is_five_per_standard_and_advanced_one_per_basic() {
        // The seed's example: 10 Standard + 20 Basic = 70.
        assert_eq!(seats(10, 0, 20).pool(), 70);
        assert_eq!(seats(1, 2, 3).pool(), 18);
    }

    #[test]
    fn hd_login_5_allocation_beyond_pool_refused_with_figures() {
        let pool = seats(1, 0, 2); // 7
        let users = [user("acme.test", "1001", 5), user("acme.test", "1002", 1)];
        let in_use = allocation_in_use(&users);
        assert_eq!(in_use, 6);
        // A new user with 1 fits exactly; with 2 it does not.
        assert_eq!(check_allocation(&pool, in_use, None, 1), Ok(()));
        assert_eq!(
            check_allocation(&pool, in_use, None, 2),
            Err(Refusal::PoolExceeded {
                pool: 7,
                used: 6,
                requested: 2
            })
        );
        // Raising 1002 from 1 to 2 fits (5 + 2); raising 1001 cannot exceed 5 anyway.
        assert_eq!(check_allocation(&pool, in_use, Some(1), 2), Ok(()));
        assert_eq!(
            check_allocation(&pool, in_use, Some(1), 3),
            Err(Refusal::PoolExceeded {
                pool: 7,
                used: 5,
                requested: 3
            })
        );
        // Lowering always fits.
        assert_eq!(check_allocation(&pool, in_use, Some(5), 1), Ok(()));
    }

    #[test]
    fn hd_login_5_allocation_range_is_one_to_five_for_any_seat() {
        let pool = seats(10, 0, 0);
        for bad in [0, 6, 255] {
            assert_eq!(
                check_allocation(&pool, 0, None, bad),
                Err(Refusal::AllocationOutOfRange { max: 5 })
            );
        }
        // Checked even where the pool is not enforced.
        assert_eq!(
            check_allocation(&Seats::default(), 0, None, 6),
            Err(Refusal::AllocationOutOfRange { max: 5 })
        );
        assert_eq!(check_allocation(&pool, 0, None, 5), Ok(()));
    }

    #[test]
    fn hd_login_5_unconfigured_seats_do_not_enforce() {
        assert!(!is_enforced(&Seats::default()));
        assert_eq!(check_allocation(&Seats::default(), 1_000, None, 5), Ok(()));
        assert_eq!(check_seats(&Seats::default(), 1_000), Ok(()));
    }

    #[test]
    fn hd_login_5_seats_cannot_drop_below_allocations_in_use() {
        assert_eq!(
            check_seats(&seats(1, 0, 0), 6),
            Err(Refusal::PoolExceeded {
                pool: 5,
                used: 6,
                requested: 0
            })
        );
        assert_eq!(check_seats(&seats(1, 0, 1), 6), Ok(()));
    }
}
