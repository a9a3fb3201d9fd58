//! Request bodies: a JSON object whose keys are checked against what the route takes, with
//! getters that answer 400 with the field's name when a value has the wrong type.

use crate::ApiError;
use errata_runtime::http::{self, Request};
use serde_json::{Map, Value};

/// The most bytes of JSON a route reads.
const MAX_BODY: usize = 256 * 1024;

pub struct Body {
    fields: Map<String, Value>,
    /// Where this object sits in the request (`organization.`), for messages.
    prefix: String,
}

impl Body {
    /// The request's JSON object; unknown keys are a 400 that names them.
    pub fn parse(req: &Request, allowed: &[&str]) -> Result<Body, ApiError> {
        let body = Body { fields: Self::object_of(req)?, prefix: String::new() };
        body.check_keys(allowed)?;
        Ok(body)
    }

    /// The request's JSON object whatever its keys (a map keyed by checksums, say).
    pub fn parse_any(req: &Request) -> Result<Value, ApiError> {
        Ok(Value::Object(Self::object_of(req)?))
    }

    fn object_of(req: &Request) -> Result<Map<String, Value>, ApiError> {
        let bytes = http::body_bytes(req).map_err(|_| ApiError::new(400, "The body is not valid base64."))?;
        if bytes.len() > MAX_BODY {
            return Err(ApiError::new(413, format!("The body is larger than {MAX_BODY} bytes.")));
        }
        let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::new(400, format!("The body is not valid JSON: {e}")))?
        };
        let Value::Object(fields) = value else { return Err(ApiError::new(400, "The body must be a JSON object.")) };
        Ok(fields)
    }

    fn check_keys(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.fields.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::new(
                400,
                format!("Unknown field {:?}; this route takes: {}.", format!("{}{k}", self.prefix), allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The names of the fields the body has.
    pub fn keys(&self) -> Vec<String> {
        self.fields.keys().cloned().collect()
    }

    /// The object's fields, for a route that reads them its own way.
    pub fn into_map(self) -> Map<String, Value> {
        self.fields
    }

    pub fn has(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key).filter(|v| !v.is_null())
    }

    pub fn required_str(&self, key: &str) -> Result<&str, ApiError> {
        self.optional_str(key)?.ok_or_else(|| ApiError::new(400, format!("{} is required.", self.name(key))))
    }

    pub fn optional_str(&self, key: &str) -> Result<Option<&str>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::new(400, format!("{} must be a string.", self.name(key)))),
        }
    }

    pub fn optional_bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::new(400, format!("{} must be true or false.", self.name(key)))),
        }
    }

    pub fn optional_u64(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| ApiError::new(400, format!("{} must be a non-negative integer.", self.name(key)))),
        }
    }

    /// A list of strings; `None` when absent.
    pub fn str_list(&self, key: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| ApiError::new(400, format!("{} must be a list of strings.", self.name(key)))),
            Some(_) => Err(ApiError::new(400, format!("{} must be a list of strings.", self.name(key)))),
        }
    }

    /// A required nested object whose keys must be among `allowed`.
    pub fn object(&self, key: &str, allowed: &[&str]) -> Result<Body, ApiError> {
        self.optional_object(key, allowed)?
            .ok_or_else(|| ApiError::new(400, format!("{} is required.", self.name(key))))
    }

    /// A nested object whose keys must be among `allowed`; `None` when absent.
    pub fn optional_object(&self, key: &str, allowed: &[&str]) -> Result<Option<Body>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(fields)) => {
                let nested = Body { fields: fields.clone(), prefix: format!("{}.", self.name(key)) };
                nested.check_keys(allowed)?;
                Ok(Some(nested))
            }
            Some(_) => Err(ApiError::new(400, format!("{} must be an object.", self.name(key)))),
        }
    }
}
