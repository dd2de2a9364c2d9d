//! The OpenAPI 3.1 document: collected from the handlers' annotations, then given
//! the security schemes and the error responses every route shares, so that no
//! route can leave them out.

use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// Statuses any authenticated route may answer with, and what each means.
const ERRORS: &[(&str, &str)] = &[
    ("400", "Bad input; `pointer` names the field or parameter"),
    ("401", "No valid credentials"),
    (
        "403",
        "The caller's role or book does not allow this, or a session write lacks its CSRF token",
    ),
    ("404", "No such record"),
    ("409", "Conflicts with the current state"),
    ("413", "The request body is too large"),
    ("415", "The body is not of a type this route takes"),
    ("422", "An uploaded file has rows that cannot be imported"),
    ("429", "Too many attempts; see Retry-After"),
    ("500", "Internal error; the log has it under the request id"),
];

/// Routes that answer without credentials and without errors of their own.
const OPEN: &[&str] = &["/healthz", "/readyz"];

pub fn finish(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.description =
        Some("An API token from `tend token create` or POST /api/v1/tokens".into());
    components.add_security_scheme("token", SecurityScheme::Http(bearer));
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
            crate::auth::SESSION_COOKIE,
        ))),
    );
    let mut write_key = Http::new(HttpAuthScheme::Basic);
    write_key.description = Some(
        "A source's write key (`tend source create`) as user name with an empty password; \
         also taken as a Bearer token or as `writeKey` in the body"
            .into(),
    );
    components.add_security_scheme("write_key", SecurityScheme::Http(write_key));
    doc.security = Some(vec![
        SecurityRequirement::new("token", Vec::<String>::new()),
        SecurityRequirement::new("session", Vec::<String>::new()),
    ]);
    for (path, item) in doc.paths.paths.iter_mut() {
        // Segment's endpoints answer errors in Segment's shape, all declared.
        if OPEN.contains(&path.as_str()) || path.starts_with("/v1/") {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, description) in ERRORS {
                let response = ResponseBuilder::new()
                    .description(*description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build();
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert(RefOr::T(response));
            }
        }
    }
    doc
}

/// Every (method, path) the document lists, upper-case methods.
pub fn operations(doc: &OpenApi) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in methods {
            if operation.is_some() {
                all.push((method.to_string(), path.clone()));
            }
        }
    }
    all
}
