//! Request templates: `/t/{{tenant}}/products/{{product}}`.
//!
//! A template is compiled once into literal and variable segments, so
//! rendering a request is a walk over a short list that appends bytes into
//! a reused buffer: no parsing and no allocation per request. Values are
//! encoded for where they land: percent-encoded in a path or query, JSON
//! string-escaped in a JSON body, stripped of line breaks in a header.

use std::fmt;

/// Where a rendered template is used, which decides how values are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A URL path with an optional query string.
    Url,
    /// An HTTP header value.
    Header,
    /// A request body sent as JSON.
    JsonBody,
    /// Any other body: values are inserted as they are.
    RawBody,
}

/// One part of a compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Bytes copied as they are.
    Literal(Vec<u8>),
    /// A variable, by its index in the endpoint's variable table.
    Var(usize),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Literals and variables, in order.
    pub segments: Vec<Segment>,
    /// Where the template is used, which decides how values are encoded.
    pub context: Context,
}

/// A template that does not parse: what is wrong and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `{{` without a matching `}}`.
    Unclosed {
        /// Byte offset of the `{{` in the template.
        offset: usize,
    },
    /// `{{}}` or `{{ }}`: no variable name.
    EmptyName {
        /// Byte offset of the `{{` in the template.
        offset: usize,
    },
    /// A variable the endpoint does not define.
    Undefined {
        /// The variable's name as written.
        name: String,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unclosed { offset } => write!(f, "`{{{{` at byte {offset} is never closed with `}}}}`"),
            TemplateError::EmptyName { offset } => write!(f, "empty variable name `{{{{}}}}` at byte {offset}"),
            TemplateError::Undefined { name } => write!(f, "template variable `{{{{{name}}}}}` is never defined"),
        }
    }
}

enum Part<'a> {
    Lit(&'a str),
    Var(&'a str),
}

fn split(text: &str) -> Result<Vec<Part<'_>>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(Part::Lit(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or(TemplateError::Unclosed { offset: offset + open })?;
        let name = after[..close].trim();
        if name.is_empty() {
            return Err(TemplateError::EmptyName { offset: offset + open });
        }
        parts.push(Part::Var(name));
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    if !rest.is_empty() {
        parts.push(Part::Lit(rest));
    }
    Ok(parts)
}

impl Template {
    /// Compile `text`, resolving each `{{name}}` with `lookup`.
    pub fn compile(
        text: &str,
        context: Context,
        lookup: impl Fn(&str) -> Option<usize>,
    ) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        for part in split(text)? {
            match part {
                Part::Lit(s) => match segments.last_mut() {
                    Some(Segment::Literal(prev)) => prev.extend_from_slice(s.as_bytes()),
                    _ => segments.push(Segment::Literal(s.as_bytes().to_vec())),
                },
                Part::Var(name) => {
                    let idx = lookup(name).ok_or_else(|| TemplateError::Undefined { name: name.to_string() })?;
                    segments.push(Segment::Var(idx));
                }
            }
        }
        Ok(Template { segments, context })
    }

    /// Whether the template has no variables (it can be rendered once).
    pub fn is_static(&self) -> bool {
        self.segments.iter().all(|s| matches!(s, Segment::Literal(_)))
    }

    /// Append the rendered template to `out`; `values[i]` is variable `i`.
    pub fn render_into(&self, values: &[Vec<u8>], out: &mut Vec<u8>) {
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => out.extend_from_slice(l),
                Segment::Var(i) => {
                    let v = values.get(*i).map(Vec::as_slice).unwrap_or_default();
                    encode_into(self.context, v, out);
                }
            }
        }
    }
}

/// Encode a value for its context.
pub fn encode_into(context: Context, v: &[u8], out: &mut Vec<u8>) {
    match context {
        Context::Url => {
            for &b in v {
                if b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'-' | b'.' | b'_' | b'~' | b'@' | b':' | b'+' | b'!' | b'$' | b',' | b';'
                    )
                {
                    out.push(b);
                } else {
                    const HEX: &[u8; 16] = b"0123456789ABCDEF";
                    out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
                }
            }
        }
        Context::Header => out.extend(v.iter().copied().filter(|b| *b != b'\r' && *b != b'\n')),
        Context::JsonBody => {
            for &b in v {
                match b {
                    b'"' => out.extend_from_slice(b"\\\""),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    0..=0x1f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                    _ => out.push(b),
                }
            }
        }
        Context::RawBody => out.extend_from_slice(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(n: &str) -> Option<usize> {
        ["tenant", "product", "q"].iter().position(|x| *x == n)
    }

    #[test]
    fn renders_literals_and_variables() {
        let t = Template::compile("/t/{{tenant}}/products/{{ product }}", Context::Url, lookup).unwrap();
        let mut out = Vec::new();
        t.render_into(&[b"t-00001".to_vec(), b"42".to_vec()], &mut out);
        assert_eq!(out, b"/t/t-00001/products/42");
        assert!(!t.is_static());
    }

    #[test]
    fn encodes_per_context() {
        let t = Template::compile("/s?q={{q}}", Context::Url, lookup).unwrap();
        let mut out = Vec::new();
        t.render_into(&[vec![], vec![], b"a b/c".to_vec()], &mut out);
        assert_eq!(out, b"/s?q=a%20b%2Fc");
        let j = Template::compile(r#"{"q": "{{q}}"}"#, Context::JsonBody, lookup).unwrap();
        let mut out = Vec::new();
        j.render_into(&[vec![], vec![], b"say \"hi\"".to_vec()], &mut out);
        assert_eq!(out, br#"{"q": "say \"hi\""}"#);
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            Template::compile("/x/{{nope}}", Context::Url, lookup).unwrap_err(),
            TemplateError::Undefined { name: "nope".into() }
        );
        assert!(matches!(
            Template::compile("/x/{{tenant", Context::Url, lookup),
            Err(TemplateError::Unclosed { offset: 3 })
        ));
        assert!(matches!(
            Template::compile("/x/{{ }}", Context::Url, lookup),
            Err(TemplateError::EmptyName { .. })
        ));
    }
}
