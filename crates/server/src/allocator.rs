//! The global allocator: mimalloc, called through its plain entry points wherever they
//! already give the alignment asked for.
//!
//! The `mimalloc` crate sends every request through `mi_malloc_aligned`. When the page it
//! looks at has no free block, that path does not fall back to the ordinary allocation for
//! blocks whose size class is not a power of two (48, 80, 192 bytes …): it over-allocates
//! from a larger class and offsets the pointer. A REGISTER pair took that detour about six
//! times (BENCHMARKS.md, eleventh pass). `mi_malloc` returns blocks aligned to 16 bytes, or
//! to 8 for blocks under 16 bytes (mimalloc's size classes on 64-bit targets), so — as
//! Rust's own `System` allocator reasons about `malloc` — an alignment of at most 16 and
//! at most the size needs nothing more.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The largest alignment `mi_malloc` gives every block at least as large as it.
const PLAIN_ALIGN: usize = 16;

/// mimalloc, plain where that suffices (see the module documentation).
pub(crate) struct Mimalloc;

/// True when `mi_malloc(size)` is aligned enough for `align`.
fn plain(size: usize, align: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` and `mi_realloc`
// take blocks from either entry point); the plain calls are used only where their
// alignment meets the layout's (see `plain`).
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain C calls with sizes and a power-of-two alignment from `layout`.
        unsafe {
            if plain(layout.size(), layout.align()) {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(layout.size(), layout.align()) {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` was returned by this allocator, so by mimalloc.
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from mimalloc; the new block keeps the layout's alignment.
        unsafe {
            if plain(new_size, layout.align()) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every size class up to a few pages, with every alignment a Rust type may ask for
    // here: blocks are aligned as asked, hold what was written, and keep it through
    // realloc to larger and smaller sizes.
    #[test]
    fn blocks_are_aligned_as_asked_and_keep_their_bytes_through_realloc() {
        let a = Mimalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 128, 4096] {
            for size in (1..=600).chain([1000, 1024, 4000, 4096, 10_000, 70_000]) {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size; every block is freed below with its layout.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    for i in 0..size {
                        p.add(i).write(i as u8);
                    }
                    let grown = a.realloc(p, layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "grown {size} align {align}");
                    for i in 0..size {
                        assert_eq!(grown.add(i).read(), i as u8);
                    }
                    let bigger = Layout::from_size_align(size * 3, align).unwrap();
                    let shrunk = a.realloc(grown, bigger, size.div_ceil(2));
                    assert_eq!(shrunk as usize % align, 0, "shrunk {size} align {align}");
                    for i in 0..size.div_ceil(2) {
                        assert_eq!(shrunk.add(i).read(), i as u8);
                    }
                    let half = Layout::from_size_align(size.div_ceil(2), align).unwrap();
                    a.dealloc(shrunk, half);

                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0, "zeroed {size} align {align}");
                    assert!((0..size).all(|i| z.add(i).read() == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
