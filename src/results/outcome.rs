//! What became of a request: the classes latency is recorded under.

use std::fmt;

/// The outcome class of one request.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Outcome {
    /// A response with a 2xx status.
    #[serde(rename = "2xx")]
    #[strum(serialize = "2xx")]
    S2xx,
    /// A response with a 3xx status.
    #[serde(rename = "3xx")]
    #[strum(serialize = "3xx")]
    S3xx,
    /// A response with a 4xx status.
    #[serde(rename = "4xx")]
    #[strum(serialize = "4xx")]
    S4xx,
    /// A response with a 5xx status.
    #[serde(rename = "5xx")]
    #[strum(serialize = "5xx")]
    S5xx,
    /// No complete response before the timeout.
    Timeout,
    /// The connection could not be opened (refused, unreachable, TLS handshake failed).
    Connect,
    /// The server reset or closed the connection before a complete response.
    Reset,
    /// Anything else: a malformed response, a 1xx final status, an I/O error.
    Other,
}

impl Outcome {
    /// Every class, in index order.
    pub const ALL: [Outcome; 8] = [
        Outcome::S2xx,
        Outcome::S3xx,
        Outcome::S4xx,
        Outcome::S5xx,
        Outcome::Timeout,
        Outcome::Connect,
        Outcome::Reset,
        Outcome::Other,
    ];
    /// The number of classes.
    pub const COUNT: usize = 8;

    /// The class of an HTTP status; `other` outside 200–599.
    pub fn from_status(status: u16) -> Outcome {
        match status {
            200..=299 => Outcome::S2xx,
            300..=399 => Outcome::S3xx,
            400..=499 => Outcome::S4xx,
            500..=599 => Outcome::S5xx,
            _ => Outcome::Other,
        }
    }

    /// Position in [`Outcome::ALL`], for per-class arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class at position `i` of [`Outcome::ALL`].
    pub fn from_index(i: usize) -> Option<Outcome> {
        Self::ALL.get(i).copied()
    }

    /// The class's name in summaries and tables: `2xx`, ..., `timeout`, `other`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The class named `s` (as [`Outcome::name`] writes it).
    pub fn parse(s: &str) -> Option<Outcome> {
        s.parse().ok()
    }

    /// Errors: server errors and transport failures. 4xx is the client's
    /// request being refused, counted on its own (a gate may count it).
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Outcome::S5xx | Outcome::Timeout | Outcome::Connect | Outcome::Reset | Outcome::Other
        )
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name tables and summaries write is the one the JSON carries, and it parses back.
    #[test]
    fn names_match_the_json_and_parse_back() {
        for o in Outcome::ALL {
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{}\"", o.name()));
            assert_eq!(Outcome::parse(o.name()), Some(o));
        }
        assert_eq!(Outcome::parse("2XX"), None);
    }
}
