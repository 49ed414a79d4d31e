//! Templates as administrators save them (HD-PROV-1, -2, -5): named per domain, each with an
//! optional file body (for one format) and an optional line label. Which one a phone gets:
//! the template applied to the device, else the domain's template for its model, else the
//! domain's `default`, else the built-in one for its format; the line label comes from the
//! first of those that sets one.

use hotdesk_core::ModelId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Store kind of template records.
pub const KIND: &str = "template";

/// The built-in line label: the owner's name and extension, the anchor when free.
pub const DEFAULT_LABEL: &str = "[[first_name]] [[last_name]] [[extension]]";

/// The name of a domain's fallback template.
pub const DOMAIN_DEFAULT: &str = "default";

/// Provisioning file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Yealink `.cfg`.
    Cfg,
    /// Polycom `.xml`.
    Xml,
}

impl Format {
    /// From a catalogue `format` (`cfg`, `xml`; anything else has no file).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "cfg" => Some(Self::Cfg),
            "xml" => Some(Self::Xml),
            _ => None,
        }
    }

    /// The file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cfg => "cfg",
            Self::Xml => "xml",
        }
    }

    /// The HTTP Content-Type of files in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Cfg => "text/plain; charset=utf-8",
            Self::Xml => "application/xml; charset=utf-8",
        }
    }
}

/// A stored template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Name within the domain (`default`, `reception`, …).
    pub name: String,
    /// File format of `body`.
    pub format: Format,
    /// The model whose default this is in the domain, if any (one per model).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub model: Option<ModelId>,
    /// The file template (`[[ … ]]` values, `[% … %]` logic), if it sets the file.
    #[serde(default)]
    pub body: Option<String>,
    /// The line label template (`[[first_name]] [[last_name]] [[extension]]` + text).
    #[serde(default)]
    pub line_label: Option<String>,
}

/// What `PUT /domains/{d}/templates/{name}` takes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// `cfg` or `xml`.
    pub format: Format,
    /// Make it the domain's template for this model.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub model: Option<ModelId>,
    /// File template.
    #[serde(default)]
    pub body: Option<String>,
    /// Line label template.
    #[serde(default)]
    pub line_label: Option<String>,
}

/// Template names: 1–64 of `a-z 0-9 - _ .`, so they are safe in URLs and engine keys.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

/// The engine key of a domain template.
pub fn engine_key(domain: &str, name: &str) -> String {
    format!("{domain}/{name}")
}

/// Built-in templates, compiled in.
pub mod builtin {
    use super::Format;

    /// Yealink per-phone file.
    pub const YEALINK: &str = include_str!("builtin/yealink.cfg");
    /// Polycom per-phone file.
    pub const POLYCOM: &str = include_str!("builtin/polycom.xml");
    /// Yealink common file.
    pub const YEALINK_COMMON: &str = include_str!("builtin/yealink-common.cfg");
    /// Polycom common file.
    pub const POLYCOM_COMMON: &str = include_str!("builtin/polycom-common.xml");

    /// Engine key of the built-in per-phone file for `format`.
    pub fn file_key(format: Format) -> &'static str {
        match format {
            Format::Cfg => "builtin/cfg",
            Format::Xml => "builtin/xml",
        }
    }

    /// Engine key of the built-in common file for `format`.
    pub fn common_key(format: Format) -> &'static str {
        match format {
            Format::Cfg => "builtin/common.cfg",
            Format::Xml => "builtin/common.xml",
        }
    }
}
