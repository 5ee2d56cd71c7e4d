//! JSON lines: one object per line, as written by nginx `log_format ... escape=json`, log
//! shippers and application loggers.
//!
//! Their key names differ, so each field is looked up under several names, the first in
//! [`KEYS`] order winning (a `null` counts as absent). Unknown keys are skipped. Strings without
//! escapes are borrowed from the line; the rest of this path favours clarity over speed.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::request::{self, section_of, Request};
use crate::text::shown;
use crate::time::{self, Stamp};
use crate::{values, Entry, Format, Rejection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Time,
    Client,
    Request,
    Method,
    Path,
    Protocol,
    Status,
    Bytes,
    Referer,
    UserAgent,
    User,
}

const FIELD_COUNT: usize = 11;

/// Every key we read, grouped by field; within a field, earlier keys win.
const KEYS: [(&str, Field); 32] = [
    ("time", Field::Time),
    ("timestamp", Field::Time),
    ("@timestamp", Field::Time),
    ("time_local", Field::Time),
    ("time_iso8601", Field::Time),
    ("client", Field::Client),
    ("remote_addr", Field::Client),
    ("remotehost", Field::Client),
    ("ip", Field::Client),
    ("host", Field::Client),
    ("request", Field::Request),
    ("method", Field::Method),
    ("path", Field::Path),
    ("uri", Field::Path),
    ("request_uri", Field::Path),
    ("url", Field::Path),
    ("protocol", Field::Protocol),
    ("status", Field::Status),
    ("bytes", Field::Bytes),
    ("body_bytes_sent", Field::Bytes),
    ("size", Field::Bytes),
    ("bytes_sent", Field::Bytes),
    ("referer", Field::Referer),
    ("http_referer", Field::Referer),
    ("referrer", Field::Referer),
    ("user_agent", Field::UserAgent),
    ("http_user_agent", Field::UserAgent),
    ("agent", Field::UserAgent),
    ("user", Field::User),
    ("remote_user", Field::User),
    ("authuser", Field::User),
    // nginx's name for the protocol; after `protocol` so an explicit one wins.
    ("server_protocol", Field::Protocol),
];

fn keys_of(field: Field) -> String {
    let names: Vec<&str> = KEYS
        .iter()
        .filter(|(_, of)| *of == field)
        .map(|(name, _)| *name)
        .collect();
    names.join(", ")
}

/// A JSON value, reduced to what a log field can be.
#[derive(Debug)]
enum Value<'a> {
    Text(Cow<'a, str>),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Null,
    /// Booleans, arrays and objects: never a valid field; named in the rejection.
    Other(&'static str),
}

/// The value found for a field, with the key it was found under (an index into [`KEYS`]).
struct Found<'a> {
    key: usize,
    value: Value<'a>,
}

impl Found<'_> {
    fn key(&self) -> &'static str {
        KEYS.get(self.key).map_or("?", |(name, _)| name)
    }
}

struct Fields<'a> {
    found: [Option<Found<'a>>; FIELD_COUNT],
}

impl<'a> Fields<'a> {
    fn take(&mut self, field: Field) -> Option<Found<'a>> {
        self.found.get_mut(field as usize)?.take()
    }
}

pub(crate) fn parse(line: &[u8]) -> Result<Entry<'_>, Rejection> {
    match std::str::from_utf8(line) {
        Ok(json) => parse_text(json),
        // serde_json refuses invalid UTF-8 inside strings; repair the line instead, as the other
        // formats do field by field, and detach the result from the repaired copy.
        Err(_) => {
            let repaired = String::from_utf8_lossy(line);
            parse_text(&repaired).map(Entry::into_owned)
        }
    }
}

fn parse_text(json: &str) -> Result<Entry<'_>, Rejection> {
    let mut fields: Fields<'_> = serde_json::from_str(json)
        .map_err(|error| Rejection::new(format!("invalid JSON: {error}")))?;

    let stamp = match fields.take(Field::Time) {
        Some(found) => stamp(found)?,
        None => {
            return Err(Rejection::new(format!(
                "JSON object has no time (one of {})",
                keys_of(Field::Time)
            )))
        }
    };
    let client = match fields.take(Field::Client) {
        Some(found) => required_text(found)?,
        None => {
            return Err(Rejection::new(format!(
                "JSON object has no client (one of {})",
                keys_of(Field::Client)
            )))
        }
    };
    let request = request(&mut fields)?;
    let status = match fields.take(Field::Status) {
        Some(found) => status(found)?,
        None => return Err(Rejection::new("JSON object has no status")),
    };
    let bytes = fields.take(Field::Bytes).map(bytes).transpose()?.flatten();
    let referer = optional_text(fields.take(Field::Referer))?;
    let user_agent = optional_text(fields.take(Field::UserAgent))?;
    let user = optional_text(fields.take(Field::User))?;

    Ok(Entry {
        format: Format::Json,
        unix_micros: stamp.unix_micros,
        utc_offset_minutes: stamp.offset_minutes,
        client,
        user,
        section: section_of(&request.path),
        method: request.method,
        path: request.path,
        protocol: request.protocol,
        status,
        bytes,
        referer,
        user_agent,
    })
}

fn wrong_type(found: &Found<'_>, expected: &str) -> Rejection {
    let got = match found.value {
        Value::Text(_) => "a string",
        Value::Unsigned(_) | Value::Signed(_) | Value::Float(_) => "a number",
        Value::Null => "null",
        Value::Other(kind) => kind,
    };
    Rejection::new(format!(
        "JSON `{}` is {got}, expected {expected}",
        found.key()
    ))
}

fn required_text(found: Found<'_>) -> Result<Cow<'_, str>, Rejection> {
    match found.value {
        Value::Text(text) if !text.is_empty() => Ok(text),
        Value::Text(_) => Err(Rejection::new(format!("JSON `{}` is empty", found.key()))),
        _ => Err(wrong_type(&found, "a string")),
    }
}

/// A string field where `-` or an empty string means "none".
fn optional_text(found: Option<Found<'_>>) -> Result<Option<Cow<'_, str>>, Rejection> {
    match found {
        None => Ok(None),
        Some(Found {
            value: Value::Text(text),
            ..
        }) => Ok((!crate::text::is_placeholder(text.as_bytes())).then_some(text)),
        Some(found) => Err(wrong_type(&found, "a string")),
    }
}

fn stamp(found: Found<'_>) -> Result<Stamp, Rejection> {
    let unix = |micros: Option<i64>| {
        micros
            .map(|unix_micros| Stamp {
                unix_micros,
                offset_minutes: 0,
            })
            .ok_or_else(|| {
                Rejection::new(format!(
                    "JSON `{}` is not a Unix time in seconds within years 0..=9999",
                    found.key()
                ))
            })
    };
    match &found.value {
        Value::Unsigned(seconds) => unix(
            i64::try_from(*seconds)
                .ok()
                .and_then(values::unix_seconds_i64),
        ),
        Value::Signed(seconds) => unix(values::unix_seconds_i64(*seconds)),
        Value::Float(seconds) => unix(values::unix_seconds_f64(*seconds)),
        Value::Text(text) => time_text(text.trim().as_bytes()),
        _ => Err(wrong_type(&found, "a time string or a number")),
    }
}

/// A time written as text: Unix seconds, RFC 3339, or CLF (with or without its brackets).
fn time_text(text: &[u8]) -> Result<Stamp, Rejection> {
    if let Some(unix_micros) = values::unix_seconds(text) {
        return Ok(Stamp {
            unix_micros,
            offset_minutes: 0,
        });
    }
    let unbracketed = text
        .strip_prefix(b"[")
        .and_then(|inner| inner.strip_suffix(b"]"))
        .unwrap_or(text);
    let parsed = if text.get(4) == Some(&b'-') {
        time::parse_rfc3339(text)
    } else {
        time::parse_clf(unbracketed)
    };
    parsed.map_err(|why| Rejection::new(format!("time `{}` {why}", shown(text))))
}

fn request<'a>(fields: &mut Fields<'a>) -> Result<Request<'a>, Rejection> {
    if let Some(found) = fields.take(Field::Request) {
        return match required_text(found)? {
            Cow::Borrowed(line) => request::parse_line(line.as_bytes()),
            Cow::Owned(line) => request::parse_line(line.as_bytes()).map(Request::into_owned),
        };
    }
    let method = fields.take(Field::Method).ok_or_else(|| {
        Rejection::new("JSON object has no request (either `request`, or `method` and a path)")
    })?;
    let path = fields.take(Field::Path).ok_or_else(|| {
        Rejection::new(format!(
            "JSON object has `method` but no path (one of {})",
            keys_of(Field::Path)
        ))
    })?;
    let method = required_text(method)?;
    let path = required_text(path)?;
    let protocol = optional_text(fields.take(Field::Protocol))?.unwrap_or_default();
    match (&method, &path, &protocol) {
        (Cow::Borrowed(method), Cow::Borrowed(path), Cow::Borrowed(protocol)) => {
            request::from_parts(method.as_bytes(), path.as_bytes(), protocol.as_bytes())
        }
        _ => request::from_parts(method.as_bytes(), path.as_bytes(), protocol.as_bytes())
            .map(Request::into_owned),
    }
}

/// A number field as the digits the shared validation expects, whichever JSON type carried it.
fn number_token<'v>(value: &'v Value<'_>) -> Option<Cow<'v, str>> {
    match value {
        Value::Text(text) => Some(Cow::Borrowed(text.trim())),
        Value::Unsigned(number) => Some(Cow::Owned(number.to_string())),
        Value::Signed(number) => Some(Cow::Owned(number.to_string())),
        // `200.0` is a whole number some loggers write; within ±1e18 the cast is exact.
        Value::Float(number) if number.fract() == 0.0 && number.abs() < 1e18 => {
            Some(Cow::Owned((*number as i64).to_string()))
        }
        Value::Float(number) => Some(Cow::Owned(number.to_string())),
        Value::Null | Value::Other(_) => None,
    }
}

fn status(found: Found<'_>) -> Result<u16, Rejection> {
    match number_token(&found.value) {
        Some(token) => values::status(token.as_bytes()),
        None => Err(wrong_type(&found, "a number")),
    }
}

fn bytes(found: Found<'_>) -> Result<Option<u64>, Rejection> {
    match number_token(&found.value) {
        Some(token) => values::bytes(token.as_bytes()),
        None => Err(wrong_type(&found, "a number or `-`")),
    }
}

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut fields = Fields {
            found: Default::default(),
        };
        while let Some(Key(name)) = map.next_key()? {
            let Some(key) = KEYS.iter().position(|(known, _)| *known == name) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let value: Value<'de> = map.next_value()?;
            if matches!(value, Value::Null) {
                continue;
            }
            let Some((_, field)) = KEYS.get(key) else {
                continue;
            };
            if let Some(slot) = fields.found.get_mut(*field as usize) {
                // Lower index = preferred key; a repeated key keeps its first value.
                if slot.as_ref().is_none_or(|held| key < held.key) {
                    *slot = Some(Found { key, value });
                }
            }
        }
        Ok(fields)
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
            fn visit_string<E: de::Error>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Value<'de>, E> {
        Ok(Value::Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Value<'de>, E> {
        Ok(Value::Text(Cow::Owned(text)))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Value<'de>, E> {
        Ok(Value::Unsigned(number))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Value<'de>, E> {
        Ok(Value::Signed(number))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Value<'de>, E> {
        Ok(Value::Float(number))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value<'de>, E> {
        Ok(Value::Other("a boolean"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Other("an object"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: &str) -> Entry<'_> {
        match parse(line.as_bytes()) {
            Ok(entry) => entry,
            Err(rejection) => panic!("{line}: {rejection}"),
        }
    }

    fn reason(line: &str) -> String {
        match parse(line.as_bytes()) {
            Ok(entry) => panic!("{line} was accepted as {entry:?}"),
            Err(rejection) => rejection.reason(),
        }
    }

    /// 2019-02-07T21:11:00Z
    const UTC: i64 = 1_549_573_860_000_000;

    #[test]
    fn nginx_escape_json_line() {
        let line = r#"{"time_local":"07/Feb/2019:14:11:00 -0700","remote_addr":"192.0.2.7","remote_user":"","request":"GET /pages/create?x=1 HTTP/1.1","status": "200","body_bytes_sent":"512","http_referer":"https://example.com/","http_user_agent":"Mozilla/5.0 (X11; Linux x86_64)"}"#;
        assert_eq!(
            entry(line),
            Entry {
                format: Format::Json,
                unix_micros: UTC,
                utc_offset_minutes: -420,
                client: "192.0.2.7".into(),
                user: None,
                method: "GET".into(),
                path: "/pages/create?x=1".into(),
                section: "/pages".into(),
                protocol: "HTTP/1.1".into(),
                status: 200,
                bytes: Some(512),
                referer: Some("https://example.com/".into()),
                user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
            }
        );
    }

    #[test]
    fn unescaped_strings_are_borrowed() {
        let entry = entry(
            r#"{"time":1549573860,"client":"::1","request":"GET /a/b HTTP/1.1","status":200}"#,
        );
        assert!(matches!(entry.client, Cow::Borrowed(_)));
        assert!(matches!(entry.path, Cow::Borrowed(_)));
        assert!(matches!(entry.section, Cow::Borrowed("/a")));
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let entry = entry(
            r#"{"time":1549573860,"client":"::1","request":"GET /q?x=\"y\" HTTP/1.1","status":200,"user_agent":"caf\u00e9 \/ bot"}"#,
        );
        assert_eq!(entry.path, r#"/q?x="y""#);
        assert_eq!(entry.section, "/q");
        assert_eq!(entry.user_agent.as_deref(), Some("café / bot"));
    }

    #[test]
    fn every_time_key_and_form() {
        let cases = [
            (r#""time":1549573860"#, UTC, 0),
            (r#""timestamp":1549573860.5"#, UTC + 500_000, 0),
            (r#""@timestamp":"2019-02-07T21:11:00.000Z""#, UTC, 0),
            (r#""time_local":"[08/Feb/2019:02:41:00 +0530]""#, UTC, 330),
            (r#""time_iso8601":"2019-02-07T14:11:00-07:00""#, UTC, -420),
            (r#""time":"1549573860""#, UTC, 0),
            (r#""time":" 2019-02-07T21:11:00+00:00 ""#, UTC, 0),
        ];
        for (time, micros, offset) in cases {
            let line =
                format!(r#"{{{time},"client":"h","request":"GET / HTTP/1.1","status":200}}"#);
            let entry = entry(&line);
            assert_eq!(
                (entry.unix_micros, entry.utc_offset_minutes),
                (micros, offset),
                "{line}"
            );
        }
    }

    #[test]
    fn earlier_keys_win_and_null_is_absent() {
        let line = r#"{"timestamp":1,"time":1549573860,"ip":"b","client":"a","request":"GET / HTTP/1.1","status":200}"#;
        let entry = entry(line);
        assert_eq!(entry.unix_micros, UTC);
        assert_eq!(entry.client, "a");

        let line = r#"{"time":null,"timestamp":1549573860,"client":null,"host":"h","request":"GET / HTTP/1.1","status":200}"#;
        let entry = self::entry(line);
        assert_eq!(entry.unix_micros, UTC);
        assert_eq!(entry.client, "h");

        let line =
            r#"{"time":1549573860,"time":1,"client":"h","request":"GET / HTTP/1.1","status":200}"#;
        assert_eq!(
            self::entry(line).unix_micros,
            UTC,
            "a repeated key keeps its first value"
        );
    }

    #[test]
    fn every_client_key() {
        for key in ["client", "remote_addr", "remotehost", "ip", "host"] {
            let line = format!(
                r#"{{"time":1549573860,"{key}":"2001:db8::1","request":"GET / HTTP/1.1","status":200}}"#
            );
            assert_eq!(entry(&line).client, "2001:db8::1", "{key}");
        }
    }

    #[test]
    fn request_in_parts_with_every_path_key() {
        for key in ["path", "uri", "request_uri", "url"] {
            let line = format!(
                r#"{{"time":1549573860,"client":"h","method":"POST","{key}":"/api/user?id=1","status":201}}"#
            );
            let entry = entry(&line);
            assert_eq!(
                (
                    &*entry.method,
                    &*entry.path,
                    &*entry.section,
                    &*entry.protocol
                ),
                ("POST", "/api/user?id=1", "/api", ""),
                "{key}"
            );
        }
        let line = r#"{"time":1549573860,"client":"h","method":"GET","url":"https://example.com/a/b","protocol":"HTTP/2.0","status":200}"#;
        let entry = entry(line);
        assert_eq!((&*entry.path, &*entry.protocol), ("/a/b", "HTTP/2.0"));

        let line = r#"{"time":1549573860,"client":"h","method":"GET","uri":"/x","server_protocol":"HTTP/1.1","status":200}"#;
        assert_eq!(self::entry(line).protocol, "HTTP/1.1");
    }

    #[test]
    fn request_line_wins_over_parts() {
        let line = r#"{"time":1549573860,"client":"h","method":"POST","path":"/b","request":"GET /a HTTP/1.1","status":200}"#;
        let entry = entry(line);
        assert_eq!((&*entry.method, &*entry.path), ("GET", "/a"));
    }

    #[test]
    fn every_bytes_key_and_form() {
        for (bytes, expected) in [
            (r#""bytes":10"#, Some(10)),
            (r#""body_bytes_sent":"10""#, Some(10)),
            (r#""size":10.0"#, Some(10)),
            (r#""bytes_sent":"-""#, None),
            (r#""bytes":null"#, None),
            (r#""other":1"#, None),
        ] {
            let line = format!(
                r#"{{"time":1549573860,"client":"h","request":"GET / HTTP/1.1","status":200,{bytes}}}"#
            );
            assert_eq!(entry(&line).bytes, expected, "{line}");
        }
    }

    #[test]
    fn every_referer_agent_and_user_key() {
        for (referer, agent, user) in [
            ("referer", "user_agent", "user"),
            ("http_referer", "http_user_agent", "remote_user"),
            ("referrer", "agent", "authuser"),
        ] {
            let line = format!(
                r#"{{"time":1549573860,"client":"h","request":"GET / HTTP/1.1","status":200,"{referer}":"https://r/","{agent}":"curl/8","{user}":"bob"}}"#
            );
            let entry = entry(&line);
            assert_eq!(entry.referer.as_deref(), Some("https://r/"));
            assert_eq!(entry.user_agent.as_deref(), Some("curl/8"));
            assert_eq!(entry.user.as_deref(), Some("bob"));
        }
        let line = r#"{"time":1549573860,"client":"h","request":"GET / HTTP/1.1","status":200,"referer":"-","agent":"","user":"-"}"#;
        let entry = entry(line);
        assert_eq!(
            (entry.referer, entry.user_agent, entry.user),
            (None, None, None)
        );
    }

    #[test]
    fn status_forms() {
        for status in ["200", r#""200""#, "200.0"] {
            let line = format!(
                r#"{{"time":1549573860,"client":"h","request":"GET / HTTP/1.1","status":{status}}}"#
            );
            assert_eq!(entry(&line).status, 200);
        }
    }

    #[test]
    fn unknown_keys_of_any_type_are_skipped() {
        let line = r#"{"upstream":{"addr":["10.0.0.1:80"],"ok":true},"time":1549573860,"client":"h","request":"GET / HTTP/1.1","status":200,"request_time":0.003}"#;
        assert_eq!(entry(line).status, 200);
    }

    #[test]
    fn non_utf8_is_repaired_not_refused() {
        let line = b"{\"time\":1549573860,\"client\":\"h\",\"request\":\"GET /caf\xe9 HTTP/1.1\",\"status\":200}";
        let entry = parse(line).unwrap();
        assert_eq!(entry.path, "/caf\u{fffd}");
    }

    #[test]
    fn problems_are_named() {
        let request = r#""request":"GET / HTTP/1.1""#;
        let cases = [
            (
                format!(r#"{{"client":"h",{request},"status":200}}"#),
                "JSON object has no time (one of time, timestamp, @timestamp, time_local, time_iso8601)",
            ),
            (
                format!(r#"{{"time":1549573860,{request},"status":200}}"#),
                "JSON object has no client (one of client, remote_addr, remotehost, ip, host)",
            ),
            (
                r#"{"time":1549573860,"client":"h","status":200}"#.to_owned(),
                "JSON object has no request (either `request`, or `method` and a path)",
            ),
            (
                r#"{"time":1549573860,"client":"h","method":"GET","status":200}"#.to_owned(),
                "JSON object has `method` but no path (one of path, uri, request_uri, url)",
            ),
            (
                format!(r#"{{"time":1549573860,"client":"h",{request}}}"#),
                "JSON object has no status",
            ),
            (
                format!(r#"{{"time":1549573860,"client":"h",{request},"status":"abc"}}"#),
                "status `abc` is not a number",
            ),
            (
                format!(r#"{{"time":1549573860,"client":"h",{request},"status":700}}"#),
                "status `700` is outside 100..=599",
            ),
            (
                format!(r#"{{"time":1549573860,"client":"h",{request},"status":true}}"#),
                "JSON `status` is a boolean, expected a number",
            ),
            (
                format!(r#"{{"time":1549573860,"client":"h",{request},"status":200,"bytes":-3}}"#),
                "bytes `-3` is not a number or `-`",
            ),
            (
                format!(r#"{{"time":1549573860,"client":5,{request},"status":200}}"#),
                "JSON `client` is a number, expected a string",
            ),
            (
                format!(r#"{{"time":1549573860,"ip":"",{request},"status":200}}"#),
                "JSON `ip` is empty",
            ),
            (
                format!(r#"{{"time":[1],"client":"h",{request},"status":200}}"#),
                "JSON `time` is an array, expected a time string or a number",
            ),
            (
                format!(r#"{{"time":1e300,"client":"h",{request},"status":200}}"#),
                "JSON `time` is not a Unix time in seconds within years 0..=9999",
            ),
            (
                format!(r#"{{"time":"yesterday","client":"h",{request},"status":200}}"#),
                "time `yesterday` is not like dd/Mon/yyyy:HH:MM:SS +hhmm",
            ),
            (
                format!(r#"{{"time":"2019-02-07T21:11:00","client":"h",{request},"status":200}}"#),
                "time `2019-02-07T21:11:00` has no zone offset (add Z or +hh:mm)",
            ),
            (
                r#"{"time":1549573860,"client":"h","request":"-","status":400}"#.to_owned(),
                "malformed request line `-`: it does not start with a method (1 to 32 letters)",
            ),
            (
                r#"{"time":1549573860,"client":"h","method":"GET","path":"x","status":400}"#
                    .to_owned(),
                "malformed request line `GET x`: its target is neither a path nor an absolute URI",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(reason(&line), expected, "{line}");
        }
    }

    #[test]
    fn invalid_json_is_reported_by_the_json_parser() {
        for line in [r#"{"time":"#, "{", r#"{"a":1} trailing"#, "{]"] {
            assert!(reason(line).starts_with("invalid JSON: "), "{line}");
        }
        assert!(reason("[1]").starts_with("invalid JSON: "));
    }
}
