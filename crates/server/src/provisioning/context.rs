//! What a phone file is rendered from: the device, its current owner (or the anchor when
//! free), the line label, keys and credentials — one flat set of names, the same for every
//! template, so [`sample`] can check any template against all of them at upload.

use hotdesk_core::label::{self, LabelValues};
use hotdesk_core::{Device, Key, User};
use serde::Serialize;

use crate::state::PhoneModel;

/// A key as templates see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyView {
    /// Position, 1-based.
    pub position: u16,
    /// `line`, `speed_dial`, `blf`, …
    pub kind: String,
    /// Number or URI.
    pub value: String,
    /// Text beside the key.
    pub label: String,
}

impl From<&Key> for KeyView {
    fn from(key: &Key) -> Self {
        Self {
            position: key.position,
            kind: key.kind.clone(),
            value: key.value.clone(),
            label: key.label.clone(),
        }
    }
}

/// The variables of a per-phone file (`{mac}.cfg`, `{mac}.xml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileContext {
    /// Line-label token: the owner's first name, empty when the desk is free.
    pub first_name: String,
    /// Line-label token: the owner's last name, empty when free.
    pub last_name: String,
    /// Line-label token: the owner's extension, the anchor when free.
    pub extension: String,
    /// The rendered line label (HD-PROV-1).
    pub line_label: String,
    /// The account label: always the anchor extension (HD-PROV-1).
    pub account_label: String,
    /// The device's anchor extension.
    pub anchor: String,
    /// Caller name shown by the phone: the owner's name, else the anchor.
    pub display_name: String,
    /// Whether someone is logged in.
    pub logged_in: bool,
    /// The owner's extension, empty when free.
    pub user_extension: String,
    /// The SIP domain.
    pub domain: String,
    /// Where the phone registers.
    pub sip_server: String,
    /// Its port.
    pub sip_port: u16,
    /// Digest user: the anchor extension (devices never register as people).
    pub auth_user: String,
    /// The device's SIP password, in clear: the reason files need credentials.
    pub auth_password: String,
    /// MAC, 12 lower-case hex digits.
    pub mac: String,
    /// Model ID (`yealink-t46u`).
    pub model: String,
    /// Vendor as printed.
    pub vendor: String,
    /// Soft keys: per device (HD-PROV-3).
    pub soft_keys: Vec<KeyView>,
    /// Line keys and speed dials: the owner's for this model (HD-PROV-4), none when free.
    pub line_keys: Vec<KeyView>,
    /// A notice for the idle screen, e.g. an automatic log-out ahead (HD-LOGOUT-2).
    pub notice: String,
    /// Whether the phone should SUBSCRIBE to message-summary (else unsolicited NOTIFY).
    pub mwi_subscribe: bool,
}

/// The variables of a model's common file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommonContext {
    /// Model ID.
    pub model: String,
    /// Vendor.
    pub vendor: String,
    /// Model name as printed.
    pub model_name: String,
}

impl CommonContext {
    /// For `model`.
    pub fn new(model: &PhoneModel) -> Self {
        Self {
            model: model.id.to_string(),
            vendor: model.vendor.clone(),
            model_name: model.name.clone(),
        }
    }
}

/// Everything [`FileContext::build`] needs, borrowed from the view.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The phone.
    pub device: &'a Device,
    /// Its model.
    pub model: Option<&'a PhoneModel>,
    /// Who is logged in, if anyone.
    pub owner: Option<&'a User>,
    /// The owner's keys for this model.
    pub line_keys: &'a [Key],
    /// The line label template in force.
    pub label_template: &'a str,
    /// The SIP password in clear.
    pub password: &'a str,
    /// Registrar host and port.
    pub sip_server: (&'a str, u16),
    /// Idle-screen notice.
    pub notice: &'a str,
    /// Whether the phone subscribes for MWI.
    pub mwi_subscribe: bool,
}

impl FileContext {
    /// The context for one phone.
    pub fn build(inputs: &Inputs<'_>) -> Self {
        let device = inputs.device;
        let anchor = device.extension.to_string();
        let (first, last, ext) = match inputs.owner {
            Some(user) => (
                user.first_name.as_str(),
                user.last_name.as_str(),
                user.extension.as_str(),
            ),
            None => ("", "", anchor.as_str()),
        };
        let values = LabelValues {
            first_name: first,
            last_name: last,
            extension: ext,
        };
        // Label templates are checked when saved; a bad one shows the extension alone.
        let line_label =
            label::render(inputs.label_template, &values).unwrap_or_else(|_| ext.into());
        let display_name = inputs
            .owner
            .map(User::display_name)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| anchor.clone());
        Self {
            first_name: first.into(),
            last_name: last.into(),
            extension: ext.into(),
            line_label,
            account_label: anchor.clone(),
            display_name,
            logged_in: inputs.owner.is_some(),
            user_extension: inputs
                .owner
                .map(|u| u.extension.to_string())
                .unwrap_or_default(),
            domain: device.domain.to_string(),
            sip_server: inputs.sip_server.0.to_owned(),
            sip_port: inputs.sip_server.1,
            auth_user: anchor.clone(),
            auth_password: inputs.password.to_owned(),
            mac: device.mac.to_string(),
            model: device.model.to_string(),
            vendor: inputs.model.map(|m| m.vendor.clone()).unwrap_or_default(),
            soft_keys: device.soft_keys.iter().map(KeyView::from).collect(),
            line_keys: inputs.line_keys.iter().map(KeyView::from).collect(),
            notice: inputs.notice.to_owned(),
            mwi_subscribe: inputs.mwi_subscribe,
            anchor,
        }
    }
}

fn sample_key() -> KeyView {
    KeyView {
        position: 2,
        kind: "speed_dial".into(),
        value: "1005".into(),
        label: "Reception".into(),
    }
}

/// A context with every variable set and one key in each list, to check templates.
pub fn sample() -> FileContext {
    FileContext {
        first_name: "Bob".into(),
        last_name: "Smith".into(),
        extension: "4545".into(),
        line_label: "Bob Smith 4545".into(),
        account_label: "94001".into(),
        anchor: "94001".into(),
        display_name: "Bob Smith".into(),
        logged_in: true,
        user_extension: "4545".into(),
        domain: "acme.test".into(),
        sip_server: "acme.test".into(),
        sip_port: 5060,
        auth_user: "94001".into(),
        auth_password: "secret".into(),
        mac: "001565123456".into(),
        model: "yealink-t46u".into(),
        vendor: "Yealink".into(),
        soft_keys: vec![sample_key()],
        line_keys: vec![sample_key()],
        notice: "Logging out at 18:00".into(),
        mwi_subscribe: true,
    }
}

/// A common-file context for checks.
pub fn common_sample() -> CommonContext {
    CommonContext {
        model: "yealink-t46u".into(),
        vendor: "Yealink".into(),
        model_name: "T46U".into(),
    }
}
