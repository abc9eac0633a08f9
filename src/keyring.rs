//! The unwrapped data keys in memory: one current key per scope (district, or `_range` for tips
//! with no district), plus older versions to open what they sealed. Keys for every district are
//! made at start-up, so taking a tip never writes a key.

use std::collections::HashMap;
use std::sync::Arc;

use crate::crypto::{CryptoError, DataKey, Keys, sealed_key_version};
use crate::jurisdiction::Jurisdiction;
use crate::store::{Store, StoreError, StoredDataKey};

/// The scope for tips whose district is not known.
pub const RANGE_SCOPE: &str = "_range";

/// Why the key ring could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored key did not unwrap: the master key is not the one these keys were made with.
    #[error(
        "data key for `{0}` does not unwrap: is this the master key the database was created with? ({1})"
    )]
    Unwrap(String, CryptoError),
    /// Random source failure.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// All data keys, unwrapped.
pub struct KeyRing {
    keys: Arc<Keys>,
    by_scope: HashMap<String, Vec<Arc<DataKey>>>,
}

impl KeyRing {
    /// Loads every stored key, creating version 1 for each scope that has none.
    pub async fn load(
        keys: Arc<Keys>,
        store: &dyn Store,
        jurisdiction: &Jurisdiction,
        now: i64,
    ) -> Result<Self, KeyRingError> {
        let mut scopes: Vec<String> = jurisdiction
            .districts
            .iter()
            .map(|d| d.id.to_string())
            .collect();
        scopes.push(RANGE_SCOPE.to_owned());
        let stored = store.data_keys().await?;
        for scope in scopes
            .iter()
            .filter(|s| !stored.iter().any(|k| &k.scope == *s))
        {
            let key = DataKey::generate(1)?;
            let wrapped = keys.wrap_data_key(scope, 1, &key)?;
            store
                .add_data_key(StoredDataKey {
                    scope: scope.clone(),
                    version: 1,
                    wrapped,
                    created_at: now,
                })
                .await?;
        }
        // Read back: another node may have won the race to create a key.
        let mut by_scope: HashMap<String, Vec<Arc<DataKey>>> = HashMap::new();
        for k in store.data_keys().await? {
            let version = u32::try_from(k.version)
                .map_err(|_| KeyRingError::Unwrap(k.scope.clone(), CryptoError::Open))?;
            let key = keys
                .unwrap_data_key(&k.scope, version, &k.wrapped)
                .map_err(|e| KeyRingError::Unwrap(k.scope.clone(), e))?;
            by_scope.entry(k.scope).or_default().push(Arc::new(key));
        }
        Ok(Self { keys, by_scope })
    }

    /// The purpose keys derived from the master key.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The current key of a scope; unknown scopes fall back to the range key.
    pub fn current(&self, scope: &str) -> Result<(String, Arc<DataKey>), CryptoError> {
        let (scope, list) = match self.by_scope.get_key_value(scope) {
            Some((s, l)) => (s.clone(), l),
            None => self
                .by_scope
                .get_key_value(RANGE_SCOPE)
                .map(|(s, l)| (s.clone(), l))
                .ok_or(CryptoError::Open)?,
        };
        let key = list
            .iter()
            .max_by_key(|k| k.version())
            .ok_or(CryptoError::Open)?;
        Ok((scope, key.clone()))
    }

    /// Opens a value sealed under `scope`, whichever version sealed it.
    pub fn open(&self, scope: &str, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let version = sealed_key_version(sealed).ok_or(CryptoError::Open)?;
        let key = self
            .by_scope
            .get(scope)
            .and_then(|l| l.iter().find(|k| k.version() == version))
            .ok_or(CryptoError::UnknownKeyVersion(version))?;
        key.open(aad, sealed)
    }
}
