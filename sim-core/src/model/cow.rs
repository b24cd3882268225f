//! [`CowVec`]: the world's namespaces and devices, shared copy on write.
//!
//! Every command runs on a copy of the world (a ping must not change the topology it was
//! given), and `hopsim reach` runs one copy per pair. A cluster world holds thousands of
//! namespaces and devices, of which one trace touches a handful: copying them all costs
//! more than the trace. A `CowVec` is chunks of shared elements: copying it copies one
//! pointer per chunk; writing to an element copies its chunk's pointers and then the
//! element itself, only if another copy still shares them.

use serde::{Serialize, Serializer};
use std::ops::{Index, IndexMut};
use std::sync::Arc;

/// Elements per chunk.
const CHUNK: usize = 32;

/// A vector whose copies share their elements until written (see the module doc).
#[derive(Clone)]
pub struct CowVec<T> {
    chunks: Vec<Arc<Vec<Arc<T>>>>,
    len: usize,
}

impl<T> Default for CowVec<T> {
    fn default() -> Self {
        CowVec {
            chunks: Vec::new(),
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
        if self.len % CHUNK == 0 {
            self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
        }
        if let Some(c) = self.chunks.last_mut() {
            Arc::make_mut(c).push(Arc::new(v));
        }
        self.len += 1;
    }

    /// An element.
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        Some(&self.chunks[i / CHUNK][i % CHUNK])
    }

    /// An element, mutable: copied first if another vector shares it.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        let chunk = Arc::make_mut(&mut self.chunks[i / CHUNK]);
        Some(Arc::make_mut(&mut chunk[i % CHUNK]))
    }

    /// The elements in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter().map(|e| &**e))
    }

    /// The elements in order, mutable (each copied first if shared).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> + '_ {
        self.chunks
            .iter_mut()
            .flat_map(|c| Arc::make_mut(c).iter_mut().map(Arc::make_mut))
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

    #[test]
    fn copies_share_until_written() {
        let mut a: CowVec<String> = (0..100).map(|i| i.to_string()).collect();
        let b = a.clone();
        a[70].push('x');
        assert_eq!(a[70], "70x");
        assert_eq!(b[70], "70");
        assert_eq!(a[71], b[71]);
        assert!(std::ptr::eq(&a[5], &b[5]), "untouched chunks stay shared");
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
