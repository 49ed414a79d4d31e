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

#[cfg(test)]
mod tests {
    use super::*;

    /// The quoted values that follow `marker` in `text` (`src="…"`, `from './x.js'`).
    fn quoted_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
        text.split(marker)
            .skip(1)
            .filter_map(|rest| {
                let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
                rest[1..].split(quote).next()
            })
            .collect()
    }

    /// Works offline, no CDN (issue 8): every script, stylesheet and icon a page loads and
    /// every module a script imports is embedded, and nothing names another host.
    #[test]
    fn portal_loads_only_embedded_files() {
        let pages = [SIGN_IN, PHONES, BOARD, ADMIN, FORBIDDEN];
        let mut loaded: Vec<String> = Vec::new();
        for page in pages {
            for marker in ["src=", "href="] {
                loaded.extend(
                    quoted_after(page, marker)
                        .into_iter()
                        .filter_map(|v| v.strip_prefix("/portal/assets/"))
                        .map(str::to_owned),
                );
            }
        }
        assert!(loaded.iter().any(|n| n == "js/admin.js"), "{loaded:?}");
        let before = loaded.len();
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            // Every module lives in js/ and imports its siblings as `./name.js`.
            loaded.extend(
                quoted_after(asset.body, "from ")
                    .into_iter()
                    .map(|i| format!("js/{}", i.trim_start_matches("./"))),
            );
        }
        assert!(loaded.len() > before + 10, "imports found: {loaded:?}");
        for name in &loaded {
            assert!(find(name).is_some(), "{name} is loaded but not embedded");
        }
        for (name, body) in pages
            .iter()
            .map(|p| ("page", *p))
            .chain(ASSETS.iter().map(|a| (a.name, a.body)))
        {
            let outside = body
                .replace("http://www.w3.org/2000/svg", "")
                .contains("://");
            assert!(!outside, "{name} names another host");
        }
    }
}
