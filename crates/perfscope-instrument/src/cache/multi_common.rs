//! What the sync and async multi-level caches share: the values a second level keeps
//! ([`L2Value`]), why a request failed ([`CacheError`]), both levels' counts
//! ([`MultiLevelStats`]) and what an L1 loader found. A leaf: the caches and their level
//! bookkeeping use it, it uses none of them.

use std::error::Error;
use std::sync::Arc;

use super::stats::LevelStats;

/// A value a [`MultiLevelCache`](super::MultiLevelCache) can keep in its second level.
pub trait L2Value: Sized {
    /// The bytes to store.
    fn to_bytes(&self) -> Vec<u8>;
    /// The value back from stored bytes; `None` if they are not a valid value.
    fn from_bytes(bytes: Vec<u8>) -> Option<Self>;
}

impl L2Value for Vec<u8> {
    fn to_bytes(&self) -> Vec<u8> {
        self.clone()
    }
    fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        Some(bytes)
    }
}

impl L2Value for String {
    fn to_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        String::from_utf8(bytes).ok()
    }
}

/// Why a [`MultiLevelCache`](super::MultiLevelCache) request failed. Cheap to clone: concurrent callers of one key
/// share the failure of the one lookup they waited for.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    /// The second level did not answer.
    #[error("cache {cache}: the second level failed: {source}")]
    L2 {
        /// The cache's name.
        cache: String,
        /// The second level's error.
        source: Arc<dyn Error + Send + Sync>,
    },
    /// The second level holds bytes that are not a value.
    #[error("cache {cache}: the second level's bytes for key {key} are not a valid value")]
    Decode {
        /// The cache's name.
        cache: String,
        /// The key.
        key: String,
    },
    /// The loader failed.
    #[error("cache {cache}: the loader failed: {source}")]
    Load {
        /// The cache's name.
        cache: String,
        /// The loader's error.
        source: Arc<dyn Error + Send + Sync>,
    },
}

/// Both levels' counts and the loader's at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MultiLevelStats {
    /// The in-process level.
    pub l1: LevelStats,
    /// The second level.
    pub l2: LevelStats,
    /// Loader calls (misses at both levels, one per key however many callers waited).
    pub loads: u64,
    /// Loader calls that failed.
    pub load_errors: u64,
}

/// What the L1 loader of `get` found, when not a value: no value anywhere, or a failure.
pub(crate) enum Lookup {
    Absent,
    Failed(CacheError),
}

impl Lookup {
    /// The L2 lookup's answer as the L1 loader's: a value, or why there is none.
    pub(crate) fn of<V>(answer: Result<Option<V>, CacheError>) -> Result<V, Lookup> {
        match answer {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(Lookup::Absent),
            Err(error) => Err(Lookup::Failed(error)),
        }
    }

    /// What `get` returns for the L1's answer.
    pub(crate) fn found<V>(l1: Result<V, Arc<Lookup>>) -> Result<Option<V>, CacheError> {
        match l1 {
            Ok(value) => Ok(Some(value)),
            Err(lookup) => match &*lookup {
                Lookup::Absent => Ok(None),
                Lookup::Failed(error) => Err(error.clone()),
            },
        }
    }
}
