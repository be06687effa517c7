//! New page buffers for [`PrometheusExporter::render`](super::PrometheusExporter::render) and
//! [`render_protobuf`](super::PrometheusExporter::render_protobuf), which hand each page to
//! the caller (the listener keeps one buffer across scrapes instead, `http.rs`).
//!
//! A text page of 10,000 functions is 35.5 MiB: above glibc's largest mmap threshold (32 MiB),
//! so every new one is a fresh mapping, page-faulted in 4-KiB page by 4-KiB page as the encoder
//! writes it (~9,000 faults: half of a 30-ms `render()` in `perf`, `BENCHMARKS.md`, issue 26).
//! A buffer of at least [`FRESH`] bytes is marked `MADV_HUGEPAGE` before anything is written,
//! so the kernel backs its aligned 2-MiB blocks with transparent huge pages where the system
//! allows them on request (`/sys/kernel/mm/transparent_hugepage/enabled` `madvise` or
//! `always`): one fault per 2 MiB. Elsewhere (THP `never`, other systems) it is a buffer like
//! any other; the hint changes how the pages are backed, never what they hold. Smaller pages
//! are left alone: glibc serves them, after the first, from memory it kept (its mmap threshold
//! rises to the size of a freed mapping, up to 32 MiB), which is faulted in already.
#![allow(unsafe_code)]

/// The size of a transparent huge page on x86-64 and on ARM64 with 4-KiB pages. (With larger
/// base pages the hint covers no whole huge page and nothing changes.)
const HUGE_PAGE: usize = 2 << 20;

/// The size from which a new buffer asks for huge pages: glibc's largest mmap threshold, above
/// which every allocation is a fresh mapping.
const FRESH: usize = 32 << 20;

/// An empty buffer of `capacity` bytes (more if the allocator gives more).
pub(super) fn buffer(capacity: usize) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(capacity);
    if capacity >= FRESH {
        advise_huge_pages(&mut buffer);
    }
    buffer
}

/// An empty `String` of `capacity` bytes, as [`buffer`].
pub(super) fn text(capacity: usize) -> String {
    // An empty buffer is valid UTF-8: nothing to check, nothing copied.
    String::from_utf8(buffer(capacity)).unwrap_or_default()
}

/// Asks the kernel to back the whole huge pages inside `buffer`'s spare capacity with
/// transparent huge pages (`madvise(MADV_HUGEPAGE)`); its result is ignored (`EINVAL` without
/// THP support: the pages stay as they were).
#[cfg(all(target_os = "linux", not(miri)))]
fn advise_huge_pages(buffer: &mut Vec<u8>) {
    let spare = buffer.spare_capacity_mut();
    let start = spare.as_mut_ptr().cast::<u8>();
    let skip = start.align_offset(HUGE_PAGE);
    let Some(rest) = spare.len().checked_sub(skip) else { return };
    let length = rest / HUGE_PAGE * HUGE_PAGE;
    if length == 0 {
        return;
    }
    // SAFETY: `start + skip .. + length` lies inside `buffer`'s allocation (`skip + length <=
    // spare.len()`), which `&mut` holds exclusively; its start is 2-MiB aligned, so page
    // aligned as madvise(2) requires. `MADV_HUGEPAGE` only changes how the kernel backs these
    // pages (never their contents, mapping or validity), and they hold nothing yet.
    unsafe {
        libc::madvise(start.wrapping_add(skip).cast(), length, libc::MADV_HUGEPAGE);
    }
}

/// No transparent huge pages to ask for.
#[cfg(not(all(target_os = "linux", not(miri))))]
fn advise_huge_pages(_buffer: &mut Vec<u8>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_empty_with_the_capacity_asked_for_and_hold_what_is_written() {
        for capacity in [0, 100, 2 * HUGE_PAGE + 1, FRESH - 1, FRESH, FRESH + 3 * HUGE_PAGE + 123] {
            let mut bytes = buffer(capacity);
            assert!(bytes.is_empty() && bytes.capacity() >= capacity, "{capacity}");
            bytes.extend((0..capacity).map(|i| (i % 251) as u8));
            assert!(bytes.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8), "{capacity}");
            let mut page = text(capacity);
            assert!(page.is_empty() && page.capacity() >= capacity, "{capacity}");
            page.extend(std::iter::repeat_n('x', capacity));
            assert_eq!(page.len(), capacity);
        }
    }
}
