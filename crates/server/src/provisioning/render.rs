//! Rendering a phone's file from the view (HD-PROV-1, -3, -4) and its ETag, so a phone
//! that resyncs fetches only when something changed (HD-PROV-2).

use hotdesk_core::{Device, DeviceKind, Key, User};
use sha2::{Digest as _, Sha256};

use super::context::{CommonContext, FileContext, Inputs};
use super::engine::{Engine, RenderError};
use super::templates::{self, builtin, Format, Template, TemplateInput};
use super::{check_input, ProvError, Provisioning};
use crate::state::{App, PhoneModel};

/// A rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The file.
    pub body: String,
    /// Strong ETag, quoted: a hash of the body.
    pub etag: String,
    /// Content-Type.
    pub content_type: &'static str,
}

impl Rendered {
    fn new(body: String, format: Format) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!("\"{}\"", hex::encode(&digest[..16]));
        Self {
            body,
            etag,
            content_type: format.content_type(),
        }
    }
}

/// What a preview shows instead of the device's SIP password.
pub const MASKED_PASSWORD: &str = "********";

/// Why a preview could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The draft is refused as an upload would be (line and column), or does not fit the
    /// device's format.
    #[error(transparent)]
    Draft(#[from] ProvError),
    /// A saved template failed to render.
    #[error(transparent)]
    Stored(#[from] RenderError),
}

/// The chain of domain templates for a device: applied, model default, domain default.
/// A `draft` takes the place of the saved template of its name; if none is in the chain
/// it comes first (as if applied), or last when it is the domain's `default`.
fn chain(prov: &Provisioning, device: &Device, draft: Option<&Template>) -> Vec<Template> {
    let mut list: Vec<Template> = {
        let catalog = prov.read();
        catalog
            .templates
            .get(&device.domain)
            .map(|list| {
                let applied = device.template.as_deref().and_then(|name| list.get(name));
                let by_model = list
                    .values()
                    .find(|t| t.model.as_ref() == Some(&device.model));
                let default = list.get(templates::DOMAIN_DEFAULT);
                [applied, by_model, default]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(draft) = draft {
        let mut placed = false;
        for slot in list.iter_mut().filter(|t| t.name == draft.name) {
            *slot = draft.clone();
            placed = true;
        }
        if !placed && draft.name == templates::DOMAIN_DEFAULT {
            list.push(draft.clone());
        } else if !placed {
            list.insert(0, draft.clone());
        }
    }
    list
}

/// The template whose body a device gets (`None`: the built-in file) and the line label.
fn choose(chain: &[Template], format: Format) -> (Option<&Template>, String) {
    let body = chain
        .iter()
        .find(|t| t.body.is_some() && t.format == format);
    let label = chain
        .iter()
        .find_map(|t| t.line_label.clone())
        .unwrap_or_else(|| templates::DEFAULT_LABEL.to_owned());
    (body, label)
}

impl Provisioning {
    /// The file format of a device's model, `None` for models without files (softphones).
    pub fn format_of(model: Option<&PhoneModel>) -> Option<Format> {
        model.and_then(|m| Format::parse(&m.format))
    }

    /// The variables of `device`'s file with line label template `label`.
    fn context(
        &self,
        app: &App,
        device: &Device,
        model: Option<&PhoneModel>,
        label: &str,
        password: &str,
    ) -> FileContext {
        let owner: Option<User> = {
            let state = app.read();
            let user = match state.desks.on_device(&device.domain, &device.extension) {
                Some(association) => Some(association.user.clone()),
                None if device.kind == DeviceKind::Personal => device.owner.clone(),
                None => None,
            };
            user.and_then(|u| state.tenants.get(&device.domain)?.users.get(&u).cloned())
        };
        let line_keys: Vec<Key> = owner
            .as_ref()
            .map(|u| self.user_keys(&device.domain, &u.extension, &device.model))
            .unwrap_or_default();
        let options = self.device_options(&device.domain, &device.extension);
        FileContext::build(&Inputs {
            device,
            model,
            owner: owner.as_ref(),
            line_keys: &line_keys,
            label_template: label,
            password,
            sip_server: (device.domain.as_str(), 5060),
            notice: options.notice.as_deref().unwrap_or_default(),
            mwi_subscribe: !options.unsolicited_mwi,
        })
    }

    /// Renders the per-phone file of `device` with its clear SIP `password`.
    pub fn render_device(
        &self,
        app: &App,
        device: &Device,
        password: &str,
    ) -> Result<Option<Rendered>, RenderError> {
        let model = app.models().get(&device.model);
        let Some(format) = Self::format_of(model) else {
            return Ok(None);
        };
        let chain = chain(self, device, None);
        let (body, label) = choose(&chain, format);
        let key = body.map_or_else(
            || builtin::file_key(format).to_owned(),
            |t| templates::engine_key(device.domain.as_str(), &t.name),
        );
        let context = self.context(app, device, model, &label, password);
        let body = self.engine.render(&key, &context)?;
        Ok(Some(Rendered::new(body, format)))
    }

    /// Renders `device`'s file as it would be with `draft` (`name`, as edited) saved —
    /// checked as an upload is — with the SIP password masked (HD-PROV-5 preview).
    /// Without a draft, the file as it is. `Ok(None)`: the model has no file.
    pub fn preview_device(
        &self,
        app: &App,
        device: &Device,
        draft: Option<(&str, &TemplateInput)>,
    ) -> Result<Option<Rendered>, PreviewError> {
        let model = app.models().get(&device.model);
        let Some(format) = Self::format_of(model) else {
            return Ok(None);
        };
        let draft = match draft {
            Some((name, input)) => {
                check_input(input)?;
                if input.body.is_some() && input.format != format {
                    return Err(ProvError::FormatMismatch {
                        model: device.model.to_string(),
                        expected: format.as_str(),
                        found: input.format.as_str(),
                    }
                    .into());
                }
                Some(Template {
                    name: name.to_owned(),
                    format: input.format,
                    model: input.model.clone(),
                    body: input.body.clone(),
                    line_label: input.line_label.clone(),
                })
            }
            None => None,
        };
        let chain = chain(self, device, draft.as_ref());
        let (body, label) = choose(&chain, format);
        let context = self.context(app, device, model, &label, MASKED_PASSWORD);
        let text = match (body, &draft) {
            (Some(t), Some(d)) if t.name == d.name => {
                let source = d.body.as_deref().unwrap_or_default();
                Engine::render_source(source, &context).map_err(ProvError::Body)?
            }
            (Some(t), _) => self.engine.render(
                &templates::engine_key(device.domain.as_str(), &t.name),
                &context,
            )?,
            (None, _) => self.engine.render(builtin::file_key(format), &context)?,
        };
        Ok(Some(Rendered::new(text, format)))
    }

    /// Renders a model's common file.
    pub fn render_common(&self, model: &PhoneModel) -> Result<Option<Rendered>, RenderError> {
        let Some(format) = Self::format_of(Some(model)) else {
            return Ok(None);
        };
        let body = self
            .engine
            .render(builtin::common_key(format), &CommonContext::new(model))?;
        Ok(Some(Rendered::new(body, format)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provisioning::context::{common_sample, sample};

    #[test]
    fn hd_prov_5_built_in_templates_pass_the_upload_check() {
        for body in [builtin::YEALINK, builtin::POLYCOM] {
            Engine::check(body, &sample()).unwrap();
        }
        for body in [builtin::YEALINK_COMMON, builtin::POLYCOM_COMMON] {
            Engine::check(body, &common_sample()).unwrap();
        }
    }

    #[test]
    fn hd_prov_2_etag_follows_the_body() {
        let a = Rendered::new("a".into(), Format::Cfg);
        let b = Rendered::new("b".into(), Format::Cfg);
        assert_ne!(a.etag, b.etag);
        assert_eq!(a.etag, Rendered::new("a".into(), Format::Xml).etag);
        assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
    }
}
