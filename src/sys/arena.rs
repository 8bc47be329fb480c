//! The allocator: a bump arena in the program's zero-filled data (`.bss`),
//! then the system's allocator once it is used up.
//!
//! A cache hit allocates a few dozen KiB and exits. musl's allocator maps and
//! unmaps pages for that (14 of a static hit's 48 system calls, issue 20),
//! and glibc's grows the heap with `brk`; here the kernel has already mapped
//! the arena when it loaded the program, so a hit makes no allocator system
//! call at all (pages are only faulted in as they are touched). Freeing the
//! newest block gives its room back, which is how most short-lived buffers
//! are freed; other frees inside the arena are not reused (it is 256 KiB at
//! most per process, and a long run simply continues in the system
//! allocator). Lock-free, so threads (the key command, the lock wait) may
//! allocate at once.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Enough for any hit (about 20 KiB) and most misses.
const SIZE: usize = 256 * 1024;

/// Aligned for any block std asks of an allocator (each claim aligns
/// further as its layout asks), not to a page: the arena's first bytes then
/// share a page with `next` and the other small statics, so a hit that
/// allocates little faults in one page fewer (issue 20).
#[repr(C, align(16))]
struct Space(UnsafeCell<[u8; SIZE]>);

/// `next` first: written on every allocation, it shares its page with the
/// arena's first blocks rather than sitting 256 KiB away on a page of its own.
#[repr(C)]
pub struct Arena {
    /// Offset of the first free byte.
    next: AtomicUsize,
    space: Space,
}

// SAFETY: the space is only handed out in disjoint blocks, each claimed by
// one successful compare-exchange on `next`; the arena itself holds no
// reference into it.
unsafe impl Sync for Arena {}

#[global_allocator]
static ARENA: Arena = Arena {
    next: AtomicUsize::new(0),
    space: Space(UnsafeCell::new([0; SIZE])),
};

impl Arena {
    fn base(&self) -> *mut u8 {
        self.space.0.get().cast::<u8>()
    }

    /// The offset of `ptr` in the arena, if it is one of ours.
    fn offset(&self, ptr: *mut u8) -> Option<usize> {
        let at = (ptr as usize).wrapping_sub(self.base() as usize);
        (at < SIZE).then_some(at)
    }

    /// A block of `layout` in the arena, or `None` when it does not fit.
    fn claim(&self, layout: Layout) -> Option<*mut u8> {
        let base = self.base() as usize;
        let mut next = self.next.load(Ordering::Acquire);
        loop {
            let start = (base + next).next_multiple_of(layout.align()) - base;
            let end = start.checked_add(layout.size()).filter(|&e| e <= SIZE)?;
            match self
                .next
                .compare_exchange_weak(next, end, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(self.base().wrapping_add(start)),
                Err(seen) => next = seen,
            }
        }
    }
}

// SAFETY: every block returned is either a disjoint, suitably aligned range
// of the arena (claimed once, see `claim`) or the system allocator's, and
// each call below hands a block back to whichever allocator made it.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.claim(layout) {
            Some(ptr) => ptr,
            // SAFETY: the caller's layout has a non-zero size, as required.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(at) = self.offset(ptr) else {
            // SAFETY: not ours, so the system allocator made it with `layout`.
            return unsafe { System.dealloc(ptr, layout) };
        };
        // The newest block gives its room back; any other stays used.
        let _ =
            self.next
                .compare_exchange(at + layout.size(), at, Ordering::AcqRel, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(at) = self.offset(ptr) else {
            // SAFETY: not ours, so the system allocator made it with
            // `layout`; the caller's new size is valid for it.
            return unsafe { System.realloc(ptr, layout, new_size) };
        };
        if new_size <= layout.size() {
            return ptr;
        }
        // The newest block grows in place when there is room.
        if at + new_size <= SIZE
            && self
                .next
                .compare_exchange(
                    at + layout.size(),
                    at + new_size,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            return ptr;
        }
        // SAFETY: the caller guarantees the new size, rounded up to the
        // alignment, does not overflow isize.
        let grown = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a non-zero size (it is larger than the old one).
        let new = unsafe { self.alloc(grown) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the old size and distinct
            // (the old one is still claimed), and the old one is ours to
            // free after the copy.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size());
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}
