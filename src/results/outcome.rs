//! What became of a request: the classes latency is recorded under.

use std::fmt;

/// The outcome class of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    #[serde(rename = "2xx")]
    S2xx,
    #[serde(rename = "3xx")]
    S3xx,
    #[serde(rename = "4xx")]
    S4xx,
    #[serde(rename = "5xx")]
    S5xx,
    /// No complete response before the timeout.
    #[serde(rename = "timeout")]
    Timeout,
    /// The connection could not be opened (refused, unreachable, TLS handshake failed).
    #[serde(rename = "connect")]
    Connect,
    /// The server reset or closed the connection before a complete response.
    #[serde(rename = "reset")]
    Reset,
    /// Anything else: a malformed response, a 1xx final status, an I/O error.
    #[serde(rename = "other")]
    Other,
}

impl Outcome {
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
    pub const COUNT: usize = 8;

    pub fn from_status(status: u16) -> Outcome {
        match status {
            200..=299 => Outcome::S2xx,
            300..=399 => Outcome::S3xx,
            400..=499 => Outcome::S4xx,
            500..=599 => Outcome::S5xx,
            _ => Outcome::Other,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Option<Outcome> {
        Self::ALL.get(i).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            Outcome::S2xx => "2xx",
            Outcome::S3xx => "3xx",
            Outcome::S4xx => "4xx",
            Outcome::S5xx => "5xx",
            Outcome::Timeout => "timeout",
            Outcome::Connect => "connect",
            Outcome::Reset => "reset",
            Outcome::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Self::ALL.iter().copied().find(|o| o.name() == s)
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
