//! Every file the pages load, built into the binary: the app's own stylesheet and
//! script, and the vendored htmx and uPlot (copied from npm by tools/web/vendor.sh,
//! licences beside them). Nothing is fetched from anywhere at run time.

/// Where the assets are served.
pub const PREFIX: &str = "/app/assets/";

/// A file and its content type.
pub struct Asset {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

const ASSETS: &[(&str, Asset)] = &[
    (
        "app.css",
        Asset {
            bytes: include_bytes!("../assets/app.css"),
            content_type: CSS,
        },
    ),
    (
        "app.js",
        Asset {
            bytes: include_bytes!("../assets/app.js"),
            content_type: JS,
        },
    ),
    (
        "htmx.min.js",
        Asset {
            bytes: include_bytes!("../assets/vendor/htmx.min.js"),
            content_type: JS,
        },
    ),
    (
        "htmx.LICENSE",
        Asset {
            bytes: include_bytes!("../assets/vendor/htmx.LICENSE"),
            content_type: TEXT,
        },
    ),
    (
        "uPlot.iife.min.js",
        Asset {
            bytes: include_bytes!("../assets/vendor/uPlot.iife.min.js"),
            content_type: JS,
        },
    ),
    (
        "uPlot.min.css",
        Asset {
            bytes: include_bytes!("../assets/vendor/uPlot.min.css"),
            content_type: CSS,
        },
    ),
    (
        "uPlot.LICENSE",
        Asset {
            bytes: include_bytes!("../assets/vendor/uPlot.LICENSE"),
            content_type: TEXT,
        },
    ),
];

/// The asset called `name`, if there is one.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
}

/// The URL of asset `name`.
pub fn url(name: &str) -> String {
    format!("{PREFIX}{name}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_asset_is_there_and_not_empty() {
        for (name, asset) in super::ASSETS {
            assert!(asset.bytes.len() > 100, "{name} is nearly empty");
        }
        assert!(super::asset("nothing.js").is_none());
    }
}
