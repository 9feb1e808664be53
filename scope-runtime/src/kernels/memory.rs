//! Memory the safe API cannot hand out by itself: zero-filled buffers straight from zeroed
//! pages, and read-only memory maps.

use std::fs::File;

use half::f16;

/// Element types whose all-zero bit pattern is the value zero (`false` for `bool`).
///
/// # Safety
///
/// Implement only for such types.
pub(crate) unsafe trait ZeroBits: Copy {}
// SAFETY: IEEE 0.0, integer 0 and `false` are all-zero bits.
unsafe impl ZeroBits for f16 {}
// SAFETY: as above.
unsafe impl ZeroBits for f32 {}
// SAFETY: as above.
unsafe impl ZeroBits for f64 {}
// SAFETY: as above.
unsafe impl ZeroBits for i32 {}
// SAFETY: as above.
unsafe impl ZeroBits for i64 {}
// SAFETY: as above.
unsafe impl ZeroBits for bool {}

/// `len` zeros from zeroed memory, or `None` if the allocation fails (a `vec!` would abort
/// the process instead): the system hands out large zeroed blocks as untouched pages, so a
/// big table of zeros (an optimizer's slots) costs nothing until it is written.
pub(crate) fn try_zeros<T: ZeroBits>(len: usize) -> Option<Vec<T>> {
    let layout = std::alloc::Layout::array::<T>(len).ok()?;
    if layout.size() == 0 {
        // SAFETY: all-zero bits are a valid `T` (`ZeroBits`).
        return Some(vec![unsafe { std::mem::zeroed::<T>() }; len]);
    }
    // SAFETY: the layout has a nonzero size.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` was allocated by the global allocator with the layout of `[T; len]`, and
    // zeroed bits are `len` valid zeros of `T` (`ZeroBits`).
    Some(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// Maps `file` read-only.
pub(crate) fn map_file(file: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is read-only and private to this process. Like every memory-mapped
    // reader (candle, Python's safetensors), this relies on the file not being truncated or
    // rewritten in place while it is open; this crate's writers never do that (they write a
    // new file and rename it over the old one).
    unsafe { memmap2::Mmap::map(file) }
}
