//! The outbound queue: bytes the kernel has not taken yet, kept as a list
//! of chunks of at most [`CHUNK`] bytes.
//!
//! One growing buffer would move everything queued on each growth and, past
//! glibc's mmap threshold, be mapped (and page-faulted) afresh for every
//! batch: a burst of 430 MB through one connection took 120,000 page faults
//! that way. Here appending never moves what is queued, a partial write only
//! advances an offset into the first chunk, one `sendmsg` takes up to
//! [`MAX_SLICES`] chunks, and written chunks are reused for the next bytes.

use std::collections::VecDeque;

/// The most bytes one chunk holds.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Chunks one write offers the kernel (4 MiB).
pub(crate) const MAX_SLICES: usize = crate::net::MAX_IOV;

/// Written chunks kept for reuse while bytes flow (1 MiB).
const POOL_MAX: usize = 16;

/// Bytes in order: `chunks[0][head..]`, then the other chunks whole.
#[derive(Default)]
pub(crate) struct Queue {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the first chunk already written.
    head: usize,
    /// Bytes queued (not yet written).
    len: usize,
}

/// Chunks whose bytes were written, cleared, for the next bytes.
#[derive(Default)]
pub(crate) struct Pool(Vec<Vec<u8>>);

impl Pool {
    /// A cleared chunk: a kept one, or a new one sized for a full chunk.
    fn get(&mut self) -> Vec<u8> {
        self.0.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK))
    }

    /// Keeps a written chunk, unless enough are kept or it grew past the
    /// size of two chunks (a buffer the first append sized).
    fn put(&mut self, mut chunk: Vec<u8>) {
        if self.0.len() < POOL_MAX && chunk.capacity() <= 2 * CHUNK {
            chunk.clear();
            self.0.push(chunk);
        }
    }

    /// Keeps at most `n` chunks (a connection gone idle keeps one).
    pub(crate) fn trim(&mut self, n: usize) {
        self.0.truncate(n);
    }

    /// Takes the chunks of `other` (up to the limit).
    pub(crate) fn absorb(&mut self, other: Pool) {
        for c in other.0 {
            self.put(c);
        }
    }

    /// Bytes of memory the kept chunks hold.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.0.iter().map(Vec::capacity).sum()
    }
}

impl Queue {
    /// Bytes queued.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `parts`, less their first `skip` bytes, behind what is
    /// queued. The first chunk of an empty queue with no kept chunk grows
    /// with what is appended, so a few small frames take a small buffer.
    pub(crate) fn push(&mut self, parts: &[&[u8]], mut skip: usize, pool: &mut Pool) {
        for p in parts {
            let Some(mut data) = p.get(skip..) else {
                skip -= p.len();
                continue;
            };
            skip = 0;
            self.len += data.len();
            while !data.is_empty() {
                let room = match self.chunks.back() {
                    Some(tail) if tail.len() < CHUNK => CHUNK - tail.len(),
                    _ => {
                        let fresh = if self.chunks.is_empty() && pool.0.is_empty() {
                            Vec::new()
                        } else {
                            pool.get()
                        };
                        self.chunks.push_back(fresh);
                        CHUNK
                    }
                };
                let n = room.min(data.len());
                if let Some(tail) = self.chunks.back_mut() {
                    tail.extend_from_slice(&data[..n]);
                }
                data = &data[n..];
            }
        }
    }

    /// The queued bytes as at most [`MAX_SLICES`] slices, in order, and
    /// how many bytes they hold.
    pub(crate) fn slices(&self) -> ([&[u8]; MAX_SLICES], usize, usize) {
        let mut out: [&[u8]; MAX_SLICES] = [&[]; MAX_SLICES];
        let mut n = 0;
        let mut bytes = 0;
        for (i, c) in self.chunks.iter().take(MAX_SLICES).enumerate() {
            let s = if i == 0 { &c[self.head..] } else { &c[..] };
            out[i] = s;
            bytes += s.len();
            n = i + 1;
        }
        (out, n, bytes)
    }

    /// Drops the first `n` bytes (written), giving chunks written whole to
    /// `pool`.
    pub(crate) fn advance(&mut self, mut n: usize, pool: &mut Pool) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(front) = self.chunks.front() else { break };
            let left = front.len() - self.head;
            if n < left {
                self.head += n;
                return;
            }
            n -= left;
            self.head = 0;
            if let Some(c) = self.chunks.pop_front() {
                pool.put(c);
            }
        }
    }

    /// Takes everything queued, leaving the queue empty.
    pub(crate) fn take(&mut self) -> Queue {
        std::mem::take(self)
    }

    /// Puts `older` (bytes taken by a writer and not written) back in
    /// front of what was queued meanwhile.
    pub(crate) fn put_back(&mut self, mut older: Queue) {
        if older.is_empty() {
            return;
        }
        let newer = std::mem::take(self);
        older.len += newer.len;
        older.chunks.extend(newer.chunks);
        *self = older;
    }

    /// Gives every chunk to `pool` and empties the queue.
    pub(crate) fn clear(&mut self, pool: &mut Pool) {
        for c in self.chunks.drain(..) {
            pool.put(c);
        }
        self.head = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything queued, in order.
    fn contents(q: &Queue) -> Vec<u8> {
        let mut v = Vec::new();
        let mut q2 = Queue { chunks: q.chunks.clone(), head: q.head, len: q.len };
        while !q2.is_empty() {
            let (s, n, bytes) = q2.slices();
            for p in &s[..n] {
                v.extend_from_slice(p);
            }
            q2.advance(bytes, &mut Pool::default());
        }
        v
    }

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    #[test]
    fn keeps_order_across_chunks_and_skips() {
        let mut pool = Pool::default();
        let mut q = Queue::default();
        let a = bytes(100, 1);
        let b = bytes(3 * CHUNK + 17, 2);
        let c = bytes(5, 3);
        q.push(&[&a, &b], 40, &mut pool);
        q.push(&[&c], 0, &mut pool);
        let mut want = a[40..].to_vec();
        want.extend_from_slice(&b);
        want.extend_from_slice(&c);
        assert_eq!(q.len(), want.len());
        assert_eq!(contents(&q), want);
        assert!(q.chunks.iter().all(|c| c.len() <= CHUNK));
    }

    #[test]
    fn partial_writes_advance_inside_a_chunk() {
        let mut pool = Pool::default();
        let mut q = Queue::default();
        let data = bytes(2 * CHUNK + 500, 7);
        q.push(&[&data], 0, &mut pool);
        let mut got = Vec::new();
        // A kernel taking odd amounts.
        for take in [1usize, 999, CHUNK, 3, CHUNK + 100_000] {
            let (s, n, _) = q.slices();
            let mut left = take;
            for p in &s[..n] {
                let k = left.min(p.len());
                got.extend_from_slice(&p[..k]);
                left -= k;
            }
            q.advance(take, &mut pool);
        }
        assert!(q.is_empty());
        assert_eq!(got, data);
        // The chunks written whole came back for reuse.
        assert!(!pool.0.is_empty());
    }

    #[test]
    fn one_write_offers_at_most_max_slices() {
        let mut pool = Pool::default();
        let mut q = Queue::default();
        q.push(&[&bytes((MAX_SLICES + 3) * CHUNK, 1)], 0, &mut pool);
        let (_, n, offered) = q.slices();
        assert_eq!(n, MAX_SLICES);
        assert_eq!(offered, MAX_SLICES * CHUNK);
    }

    #[test]
    fn put_back_goes_in_front_of_newer_bytes() {
        let mut pool = Pool::default();
        let mut q = Queue::default();
        q.push(&[b"hello ".as_slice(), b"world"], 0, &mut pool);
        let mut taken = q.take();
        assert!(q.is_empty());
        taken.advance(2, &mut pool);
        q.push(&[b", again"], 0, &mut pool);
        q.put_back(taken);
        assert_eq!(contents(&q), b"llo world, again");
        assert_eq!(q.len(), 16);
    }

    #[test]
    fn written_chunks_are_reused_not_reallocated() {
        let mut pool = Pool::default();
        let mut q = Queue::default();
        let data = bytes(4 * CHUNK, 9);
        q.push(&[&data], 0, &mut pool);
        let ptrs: Vec<*const u8> = q.chunks.iter().skip(1).map(|c| c.as_ptr()).collect();
        q.clear(&mut pool);
        q.push(&[&data], 0, &mut pool);
        // Every chunk but the first of an empty queue comes from the pool.
        let again: Vec<*const u8> = q.chunks.iter().map(|c| c.as_ptr()).collect();
        assert!(ptrs.iter().all(|p| again.contains(p)));
    }

    #[test]
    fn the_pool_is_bounded() {
        let mut pool = Pool::default();
        let mut q = Queue::default();
        q.push(&[&bytes(40 * CHUNK, 1)], 0, &mut pool);
        q.clear(&mut pool);
        assert_eq!(pool.0.len(), POOL_MAX);
        assert!(pool.held() <= POOL_MAX * 2 * CHUNK);
        pool.trim(1);
        assert_eq!(pool.0.len(), 1);
    }

    #[test]
    fn a_few_small_frames_take_a_small_buffer() {
        let mut pool = Pool::default();
        let mut q = Queue::default();
        q.push(&[&bytes(86, 1)], 0, &mut pool);
        q.push(&[&bytes(86, 2)], 0, &mut pool);
        assert_eq!(q.chunks.len(), 1);
        assert!(q.chunks[0].capacity() < 4096);
    }
}
