//! The phone model catalogue (HD-PROV-5): data, not code. The built-in list lives in
//! `models.json` beside this file; an administrator can load a longer one at start.

use std::collections::BTreeMap;

use hotdesk_core::ModelId;
use serde::{Deserialize, Serialize};

/// The built-in catalogue, compiled in so a fresh install knows the common phones.
const BUILT_IN: &str = include_str!("models.json");

/// One known phone model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneModel {
    /// `vendor-model` in lower case (`yealink-t46u`).
    pub id: ModelId,
    /// Manufacturer name as printed.
    pub vendor: String,
    /// Model name as printed.
    pub name: String,
    /// Provisioning file format: `cfg` (Yealink), `xml` (Polycom) or `none`.
    pub format: String,
    /// Form factor: `desk`, `dect`, `conference` or `soft`.
    pub kind: String,
}

/// Why a catalogue file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The JSON did not parse as a list of models.
    #[error("model catalogue is not valid: {0}")]
    Parse(#[from] serde_json::Error),
}

/// The set of models devices may be created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCatalogue {
    models: BTreeMap<ModelId, PhoneModel>,
}

impl ModelCatalogue {
    /// The models shipped with hotdesk.
    pub fn built_in() -> Self {
        // The compiled-in file is checked by a unit test, so this cannot fail in a release.
        Self::from_json(BUILT_IN).unwrap_or_else(|_| Self {
            models: BTreeMap::new(),
        })
    }

    /// Parses a JSON list of models (same shape as the built-in `models.json`).
    pub fn from_json(text: &str) -> Result<Self, CatalogueError> {
        let list: Vec<PhoneModel> = serde_json::from_str(text)?;
        Ok(Self {
            models: list.into_iter().map(|m| (m.id.clone(), m)).collect(),
        })
    }

    /// Adds or replaces models, e.g. an administrator's additions to the built-in list.
    pub fn extend(&mut self, other: Self) {
        self.models.extend(other.models);
    }

    /// The model with this ID, if known.
    pub fn get(&self, id: &ModelId) -> Option<&PhoneModel> {
        self.models.get(id)
    }

    /// Every known model ID, sorted, for "unknown model" errors.
    pub fn ids(&self) -> Vec<&str> {
        self.models.keys().map(ModelId::as_str).collect()
    }

    /// Every known model, sorted by ID.
    pub fn all(&self) -> impl Iterator<Item = &PhoneModel> {
        self.models.values()
    }
}

impl Default for ModelCatalogue {
    fn default() -> Self {
        Self::built_in()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd_prov_5_built_in_catalogue_parses_and_has_spec_models() {
        let catalogue = ModelCatalogue::from_json(BUILT_IN).unwrap();
        for id in [
            "yealink-t46u",
            "yealink-t54w",
            "yealink-t57w",
            "polycom-vvx-250",
            "polycom-vvx-450",
            "softphone",
        ] {
            assert!(catalogue.get(&ModelId::new(id).unwrap()).is_some(), "{id}");
        }
        assert!(catalogue
            .get(&ModelId::new("acme-phone").unwrap())
            .is_none());
    }

    #[test]
    fn hd_prov_5_catalogue_extends_without_code() {
        let mut catalogue = ModelCatalogue::built_in();
        let before = catalogue.ids().len();
        let extra = ModelCatalogue::from_json(
            r#"[{"id":"snom-d785","vendor":"Snom","name":"D785","format":"xml","kind":"desk"}]"#,
        )
        .unwrap();
        catalogue.extend(extra);
        assert_eq!(catalogue.ids().len(), before + 1);
        assert!(ModelCatalogue::from_json(r#"[{"id":"Bad Id"}]"#).is_err());
    }
}
