//! Entries encoded for `COPY ingest.entries FROM STDIN (FORMAT binary)`: no text escaping, no
//! date formatting, and the cheapest path into Postgres.

use accesslog::Entry;

/// The columns, in the order each row is encoded.
pub const COLUMNS: &str = "batch_id, ordinal, time, utc_offset_minutes, client, remote_user, \
     method, path, section, protocol, status, bytes, referer_id, user_agent_id";
const COLUMN_COUNT: i16 = 14;

/// Microseconds from the Unix epoch to Postgres' epoch, 2000-01-01.
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

pub fn header(buf: &mut Vec<u8>) {
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buf.extend_from_slice(&0i32.to_be_bytes()); // flags
    buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
}

pub fn trailer(buf: &mut Vec<u8>) {
    buf.extend_from_slice(&(-1i16).to_be_bytes());
}

pub struct Row<'e, 'a> {
    pub batch_id: i64,
    pub ordinal: i32,
    pub entry: &'e Entry<'a>,
    pub referer_id: Option<i64>,
    pub user_agent_id: Option<i64>,
}

pub fn row(buf: &mut Vec<u8>, row: &Row) {
    let e = row.entry;
    buf.extend_from_slice(&COLUMN_COUNT.to_be_bytes());
    int8(buf, row.batch_id);
    int4(buf, row.ordinal);
    int8(buf, e.unix_micros - PG_EPOCH_UNIX_MICROS);
    int2(buf, e.utc_offset_minutes);
    text(buf, &e.client);
    optional(buf, e.user.as_deref(), text);
    text(buf, &e.method);
    text(buf, &e.path);
    text(buf, &e.section);
    text(buf, &e.protocol);
    int2(buf, e.status as i16);
    optional(
        buf,
        e.bytes.map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
        int8,
    );
    optional(buf, row.referer_id, int8);
    optional(buf, row.user_agent_id, int8);
}

fn int2(buf: &mut Vec<u8>, v: i16) {
    buf.extend_from_slice(&2i32.to_be_bytes());
    buf.extend_from_slice(&v.to_be_bytes());
}

fn int4(buf: &mut Vec<u8>, v: i32) {
    buf.extend_from_slice(&4i32.to_be_bytes());
    buf.extend_from_slice(&v.to_be_bytes());
}

fn int8(buf: &mut Vec<u8>, v: i64) {
    buf.extend_from_slice(&8i32.to_be_bytes());
    buf.extend_from_slice(&v.to_be_bytes());
}

fn text(buf: &mut Vec<u8>, v: &str) {
    // Lines are at most 64 KiB, so a field's length always fits.
    buf.extend_from_slice(&(v.len() as i32).to_be_bytes());
    buf.extend_from_slice(v.as_bytes());
}

fn optional<T>(buf: &mut Vec<u8>, v: Option<T>, write: fn(&mut Vec<u8>, T)) {
    match v {
        Some(v) => write(buf, v),
        None => buf.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}
