//! What a claimed effect has done so far, kept with it in the outbox so that a retry (after a
//! rate limit, a timeout or a restart) resumes where the last attempt stopped. Each part of an
//! effect keeps its own key, so catching up and sharing a draft can share one effect.

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::App;
use crate::store::outbox::ClaimedEffect;

/// The progress of one claimed effect.
pub struct Progress<'a> {
    app: &'a App,
    id: i64,
    worker: &'a str,
    value: serde_json::Value,
}

impl<'a> Progress<'a> {
    /// The progress earlier attempts saved.
    pub fn of(app: &'a App, claimed: &ClaimedEffect, worker: &'a str) -> Self {
        let value = match &claimed.progress {
            v @ serde_json::Value::Object(_) => v.clone(),
            _ => serde_json::json!({}),
        };
        Progress {
            app,
            id: claimed.id,
            worker,
            value,
        }
    }

    /// What was saved under `key`; `None` if nothing was (or it no longer reads).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.value
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Saves `value` under `key`, durably, before the caller goes on; also renews the lease.
    pub async fn set<T: Serialize>(&mut self, key: &str, value: &T) -> anyhow::Result<()> {
        let v = serde_json::to_value(value).context("Failed to serialise progress")?;
        if let serde_json::Value::Object(map) = &mut self.value {
            map.insert(key.to_string(), v);
        }
        self.app
            .store
            .save_progress(self.id, self.worker, &self.value)
            .await
    }
}
