//! [`CowVec`]: the world's namespaces and devices, shared copy on write.
//!
//! Every command runs on a copy of the world (a ping must not change the topology it was
//! given), and `hopsim reach` runs one copy per pair. A cluster world holds thousands of
//! namespaces and devices, of which one trace touches a handful: copying them all costs
//! more than the trace. A `CowVec` is a shared base vector and a private overlay of the
//! elements this copy wrote: copying it copies one pointer (and the overlay, empty in a
//! fresh copy); writing an element moves a copy of it into the overlay. When the overlay
//! grows past an eighth of the vector, it is folded into the base (which is copied then
//! if another vector still shares it), so reads stay one lookup in a small map.
//!
//! (The previous layout, chunks of 32 shared pointers, made a copy cost one reference
//! count update per chunk: 2,360 scattered cache lines for a 100-node cluster, more
//! than the request traced through it.)

use serde::{Serialize, Serializer};
use std::ops::{Index, IndexMut};
use std::sync::Arc;

/// The overlay never folds below this many elements.
const MIN_FOLD: usize = 32;

/// A vector whose copies share their elements until written (see the module doc).
#[derive(Clone)]
pub struct CowVec<T> {
    /// Elements shared between copies.
    base: Arc<Vec<T>>,
    /// Elements this copy wrote or pushed, by index (ascending), read before `base`. Each
    /// is boxed: a trace writes a handful of namespaces of a few hundred bytes each, and
    /// small blocks are what the allocator serves fastest.
    overlay: Vec<(usize, Box<T>)>,
    /// Which indexes the overlay holds, one bit each (empty while the overlay is): a read
    /// of an element not written is a bit test, not a map lookup.
    written: Vec<u64>,
    len: usize,
}

impl<T> Default for CowVec<T> {
    fn default() -> Self {
        CowVec {
            base: Arc::new(Vec::new()),
            overlay: Vec::new(),
            written: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> CowVec<T> {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append an element.
    pub fn push(&mut self, v: T) {
        if self.overlay.is_empty() {
            if let Some(base) = Arc::get_mut(&mut self.base) {
                base.push(v);
                self.len += 1;
                return;
            }
        }
        self.insert_overlay(self.len, v);
        self.len += 1;
        self.fold_if_large();
    }

    fn is_written(&self, i: usize) -> bool {
        self.written
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn insert_overlay(&mut self, i: usize, v: T) {
        if self.written.len() <= i / 64 {
            self.written.resize(i / 64 + 1, 0);
        }
        self.written[i / 64] |= 1 << (i % 64);
        match self.overlay.binary_search_by_key(&i, |(k, _)| *k) {
            Ok(at) => *self.overlay[at].1 = v,
            Err(at) => self.overlay.insert(at, (i, Box::new(v))),
        }
    }

    /// Where the overlay holds element `i`.
    fn in_overlay(&self, i: usize) -> Option<usize> {
        self.overlay.binary_search_by_key(&i, |(k, _)| *k).ok()
    }

    /// An element.
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        if self.is_written(i) {
            return self.in_overlay(i).map(|at| &*self.overlay[at].1);
        }
        self.base.get(i)
    }

    /// An element, mutable: copied into this vector's overlay first if its base is
    /// shared.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        if !self.is_written(i) {
            if Arc::get_mut(&mut self.base).is_some() {
                return Arc::get_mut(&mut self.base).and_then(|b| b.get_mut(i));
            }
            let copy = self.base.get(i)?.clone();
            self.insert_overlay(i, copy);
            if self.fold_if_large() {
                return Arc::get_mut(&mut self.base).and_then(|b| b.get_mut(i));
            }
        }
        let at = self.in_overlay(i)?;
        Some(&mut *self.overlay[at].1)
    }

    /// Fold the overlay into the base when it has grown large; true if it did.
    fn fold_if_large(&mut self) -> bool {
        if self.overlay.len() <= MIN_FOLD.max(self.len / 8) {
            return false;
        }
        self.fold();
        true
    }

    /// Move every overlay element into the base (copied first if shared).
    fn fold(&mut self) {
        self.written.clear();
        let base = Arc::make_mut(&mut self.base);
        for (i, v) in std::mem::take(&mut self.overlay) {
            let v = *v;
            if i < base.len() {
                base[i] = v;
            } else {
                // Pushed elements: the overlay holds them in index order, from base.len().
                base.push(v);
            }
        }
    }

    /// The elements in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        // Every index below `len` is in the overlay or the base.
        (0..self.len).map(move |i| &self[i])
    }

    /// The elements in order, mutable (the whole vector is copied first if shared).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> + '_ {
        self.fold();
        Arc::make_mut(&mut self.base).iter_mut()
    }

    /// The last element.
    pub fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }
}

impl<T: Clone> Index<usize> for CowVec<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        match self.get(i) {
            Some(v) => v,
            None => panic!("index {i} out of range for a CowVec of length {}", self.len),
        }
    }
}

impl<T: Clone> IndexMut<usize> for CowVec<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        let len = self.len;
        match self.get_mut(i) {
            Some(v) => v,
            None => panic!("index {i} out of range for a CowVec of length {len}"),
        }
    }
}

impl<T: Clone + PartialEq> PartialEq for CowVec<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Clone + std::fmt::Debug> std::fmt::Debug for CowVec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Clone + Serialize> Serialize for CowVec<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<T: Clone> FromIterator<T> for CowVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> Self {
        let mut v = CowVec::new();
        for x in it {
            v.push(x);
        }
        v
    }
}

impl<'a, T: Clone> IntoIterator for &'a CowVec<T> {
    type Item = &'a T;
    type IntoIter = Box<dyn DoubleEndedIterator<Item = &'a T> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::CowVec;
    use std::sync::Arc;

    proptest::proptest! {
        /// A copy behaves as a plain vector, whatever the writes, pushes and folds, and
        /// never changes the vector it was copied from.
        #[test]
        fn a_copy_is_a_vector(start in 0usize..80, ops in proptest::collection::vec((0usize..100, 0u32..1000, proptest::bool::ANY), 0..200)) {
            let base: CowVec<u32> = (0..start as u32).collect();
            let mut copy = base.clone();
            let mut model: Vec<u32> = (0..start as u32).collect();
            for (i, v, push) in ops {
                if push || model.is_empty() {
                    copy.push(v);
                    model.push(v);
                } else {
                    let i = i % model.len();
                    copy[i] = v;
                    model[i] = v;
                }
                proptest::prop_assert_eq!(copy.len(), model.len());
            }
            proptest::prop_assert_eq!(copy.iter().copied().collect::<Vec<_>>(), model.clone());
            proptest::prop_assert_eq!(base.iter().copied().collect::<Vec<_>>(), (0..start as u32).collect::<Vec<_>>());
            for (i, m) in model.iter().enumerate() {
                proptest::prop_assert_eq!(copy.get(i), Some(m));
            }
            proptest::prop_assert_eq!(copy.get(model.len()), None);
        }
    }

    #[test]
    fn copies_share_until_written() {
        let mut a: CowVec<String> = (0..100).map(|i| i.to_string()).collect();
        let b = a.clone();
        a[70].push('x');
        assert_eq!(a[70], "70x");
        assert_eq!(b[70], "70");
        assert_eq!(a[71], b[71]);
        assert!(std::ptr::eq(&a[5], &b[5]), "untouched elements stay shared");
        assert!(!std::ptr::eq(&a[70], &b[70]));
        assert_eq!(a.len(), 100);
        assert_eq!(a.iter().count(), 100);
        assert_eq!(a.get(100), None);
        assert_eq!(a.last().map(String::as_str), Some("99"));
        assert_ne!(a, b);
        a[70].pop();
        assert_eq!(a, b);
    }

    #[test]
    fn a_large_overlay_folds_into_a_private_base() {
        let b: CowVec<u32> = (0..1000).collect();
        let mut a = b.clone();
        assert!(Arc::ptr_eq(&a.base, &b.base), "a copy shares the base");
        for i in 0..(1000 / 8) {
            a[i * 8] += 1;
        }
        assert!(
            Arc::ptr_eq(&a.base, &b.base),
            "writes below the limit stay in the overlay"
        );
        assert_eq!(a.overlay.len(), 125);
        a[3] += 1;
        assert!(
            !Arc::ptr_eq(&a.base, &b.base),
            "past it, the overlay is folded"
        );
        assert!(a.overlay.is_empty());
        a.push(1000);
        let c = a.clone();
        a.push(1001);
        a[0] += 1;
        assert_eq!(a.len(), 1002);
        assert_eq!(c.len(), 1001);
        assert_eq!(a[1001], 1001);
        assert_eq!(c.get(1001), None);
        assert_eq!(a[0], 2);
        assert_eq!(c[0], 1);
        assert_eq!(b[0], 0);
        let expect: Vec<u32> = (0..1002)
            .map(|i| match i {
                0 => 2,
                3 => 4,
                i if i % 8 == 0 && i < 1000 => i + 1,
                i => i,
            })
            .collect();
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), expect);
        assert_eq!(a.iter().rev().count(), 1002);
        assert_eq!(
            b.iter().copied().collect::<Vec<_>>(),
            (0..1000).collect::<Vec<_>>()
        );
    }

    #[test]
    fn iter_mut_writes_every_element_of_the_copy_only() {
        let b: CowVec<u32> = (0..40).collect();
        let mut a = b.clone();
        for x in a.iter_mut() {
            *x += 1;
        }
        assert_eq!(
            a.iter().copied().collect::<Vec<_>>(),
            (1..41).collect::<Vec<_>>()
        );
        assert_eq!(
            b.iter().copied().collect::<Vec<_>>(),
            (0..40).collect::<Vec<_>>()
        );
    }
}
