//! The portal's files, compiled into the binary (no CDN, works offline): HTML pages,
//! CSS and small JavaScript modules from `web/`.

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asset {
    /// Name under `/portal/assets/`.
    pub(crate) name: &'static str,
    /// `Content-Type`.
    pub(crate) mime: &'static str,
    /// The file (all portal files are UTF-8 text).
    pub(crate) body: &'static str,
}

macro_rules! asset {
    ($name:literal, $mime:expr) => {
        Asset {
            name: $name,
            mime: $mime,
            body: include_str!(concat!("../../../../web/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Static files served to anyone (they hold no data).
pub(crate) const ASSETS: &[Asset] = &[
    asset!("css/portal.css", "text/css; charset=utf-8"),
    asset!("js/api.js", JS),
    asset!("js/shell.js", JS),
    asset!("js/signin.js", JS),
    asset!("js/phones.js", JS),
    asset!("js/my-keys.js", JS),
    asset!("js/board.js", JS),
    asset!("js/admin.js", JS),
    asset!("js/admin-users.js", JS),
    asset!("js/admin-devices.js", JS),
    asset!("js/admin-records.js", JS),
    asset!("js/admin-templates.js", JS),
    asset!("js/admin-queues.js", JS),
    asset!("favicon.svg", "image/svg+xml"),
];

/// The sign-in page (public).
pub(crate) const SIGN_IN: &str = include_str!("../../../../web/signin.html");
/// "My phones" (any signed-in user).
pub(crate) const PHONES: &str = include_str!("../../../../web/index.html");
/// The desk board (office manager and up).
pub(crate) const BOARD: &str = include_str!("../../../../web/board.html");
/// Administration (office manager and up; each tab needs its API role).
pub(crate) const ADMIN: &str = include_str!("../../../../web/admin.html");
/// Shown to a signed-in user whose role does not reach a page.
pub(crate) const FORBIDDEN: &str = include_str!("../../../../web/forbidden.html");

/// The asset called `name`, if embedded.
pub(crate) fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}
