//! Poison-tolerant locking: the one way the workspace takes a mutex.

use std::sync::{Mutex, MutexGuard};

/// Lock `mutex`, taking it over even when a thread panicked while holding
/// it. Every mutex of the workspace guards a cache, a map of cells or
/// counters whose each update is one assignment, so a panic cannot leave
/// them half-updated in a way that matters; refusing to serve (or
/// panicking again, which in the addon would abort) would be worse.
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_mutex_is_still_locked_and_keeps_its_value() {
        let m = Mutex::new(1);
        let _ = std::panic::catch_unwind(|| {
            let mut g = m.lock().unwrap();
            *g = 2;
            panic!("while holding the lock");
        });
        assert!(m.is_poisoned());
        assert_eq!(*lock(&m), 2);
    }
}
