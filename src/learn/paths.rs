//! Path templates: a tree of path segments that turns many concrete paths
//! into a few templates (`/t/acme/orders/123` → `/t/{{tenant}}/orders/{{id}}`).
//!
//! A segment becomes a variable by its characters ([`classify`]: numbers,
//! UUIDs, hex ids, tokens, e-mail addresses) or by cardinality: once more
//! than `max_literals` different segments sit under one parent, that position
//! is a variable and the values seen there so far join it. At the end,
//! fixed segments seen fewer than `min_count` times, or that look like
//! personal data, join their position's variable too. Templates pinned by
//! the user are matched first and never rewritten.

use std::collections::{BTreeMap, HashMap};

use super::segment::{classify, is_identifier};
use super::sketch::Quantiles;
use super::vars::VarStats;
use crate::scrub::detect::Detectors;

/// The deepest path the tree follows; deeper paths are counted and left out.
pub const MAX_DEPTH: usize = 16;
/// Query keys kept per endpoint; more are counted and left out.
const MAX_QUERY_KEYS: usize = 32;

/// How the tree decides what is fixed and what varies.
#[derive(Debug, Clone)]
pub struct TreeOptions {
    /// Different fixed segments under one parent before the position is a variable.
    pub max_literals: usize,
    /// Nodes in the whole tree before new fixed segments become variables.
    pub max_nodes: usize,
    /// The path segment (0-based) that holds the tenant, if any.
    pub tenant_segment: Option<usize>,
    /// The query key that holds the tenant, if any (left out of templates).
    pub tenant_query: Option<String>,
    /// Templates pinned by the user.
    pub pins: Vec<Pin>,
}

/// One part of a pinned template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinPart {
    /// A fixed segment.
    Literal(String),
    /// A variable with the user's name for it.
    Var(String),
    /// The tenant.
    Tenant,
}

/// A template the user pinned (`--template /users/{{user}}/settings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// Its segments.
    pub parts: Vec<PinPart>,
}

impl Pin {
    /// Parse `/a/{{name}}/b`; `{{tenant}}` is the tenant.
    pub fn parse(s: &str) -> Result<Pin, String> {
        let path = s.split('?').next().unwrap_or("");
        let Some(rest) = path.strip_prefix('/') else {
            return Err(format!("template `{s}` does not start with `/`"));
        };
        let mut parts = Vec::new();
        for seg in rest.split('/') {
            if let Some(name) = seg.strip_prefix("{{").and_then(|x| x.strip_suffix("}}")) {
                let name = name.trim();
                if name == "tenant" {
                    parts.push(PinPart::Tenant);
                } else if is_identifier(name) && !name.contains(['.', '-', '[', ']']) && name != "request" {
                    parts.push(PinPart::Var(name.to_string()));
                } else {
                    return Err(format!(
                        "template `{s}`: `{{{{{name}}}}}` is not a variable name (letters, digits, `_`; not `request`)"
                    ));
                }
            } else if seg.contains("{{") || seg.contains("}}") {
                return Err(format!("template `{s}`: a variable must be a whole segment"));
            } else {
                parts.push(PinPart::Literal(seg.to_string()));
            }
        }
        Ok(Pin { parts })
    }

    fn matches(&self, segs: &[&str], tenant_segment: Option<usize>) -> bool {
        self.parts.len() == segs.len()
            && self.parts.iter().zip(segs).enumerate().all(|(i, (p, s))| match p {
                PinPart::Literal(l) => l == s,
                PinPart::Var(_) => true,
                PinPart::Tenant => tenant_segment.is_none_or(|t| t == i),
            })
    }
}

/// What requests to one method + template looked like.
#[derive(Debug, Clone, Default)]
pub struct Leaf {
    /// Requests.
    pub count: u64,
    /// Responses by class: unknown, 1xx, 2xx, 3xx, 4xx, 5xx.
    pub status: [u64; 6],
    /// Request sizes in bytes, where logged.
    pub request_bytes: Quantiles,
    /// Response sizes in bytes, where logged.
    pub response_bytes: Quantiles,
    /// Query keys (identifiers only) and their values' shape.
    pub query: HashMap<Box<str>, VarStats>,
    /// Query parameters left out: keys that are not identifiers, or past the cap.
    pub query_dropped: u64,
}

impl Leaf {
    fn merge(&mut self, o: &Leaf) {
        self.count += o.count;
        for (a, b) in self.status.iter_mut().zip(o.status) {
            *a += b;
        }
        self.request_bytes.merge(&o.request_bytes);
        self.response_bytes.merge(&o.response_bytes);
        for (k, v) in &o.query {
            let room = self.query.len() < MAX_QUERY_KEYS;
            match self.query.get_mut(k) {
                Some(mine) => mine.merge(v),
                None if room => {
                    self.query.insert(k.clone(), v.clone());
                }
                None => self.query_dropped += v.count(),
            }
        }
        self.query_dropped += o.query_dropped;
    }

    fn add_query(&mut self, query: &str, tenant_key: Option<&str>) {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if tenant_key == Some(k) {
                continue;
            }
            if !is_identifier(k) {
                self.query_dropped += 1;
                continue;
            }
            if !self.query.contains_key(k) && self.query.len() >= MAX_QUERY_KEYS {
                self.query_dropped += 1;
                continue;
            }
            self.query.entry(k.into()).or_default().add(v, classify(v), 1);
        }
    }
}

/// One position in the tree.
#[derive(Debug, Clone, Default)]
struct Node {
    /// Requests that end here, by method.
    ends: BTreeMap<Box<str>, Leaf>,
    /// Fixed segments below.
    lits: HashMap<Box<str>, Node>,
    /// The variable below, if any segment here varies.
    var: Option<Box<VarNode>>,
    /// The tenant segment below.
    tenant: Option<Box<Node>>,
    /// Every new fixed segment here goes to the variable.
    collapsed: bool,
    /// Pinned by the user: never joins a variable.
    pinned: bool,
}

#[derive(Debug, Clone, Default)]
struct VarNode {
    stats: VarStats,
    /// The user's name for it (a pinned template).
    name: Option<String>,
    node: Node,
}

impl Node {
    fn total(&self) -> u64 {
        self.ends.values().map(|l| l.count).sum::<u64>()
            + self.lits.values().map(Node::total).sum::<u64>()
            + self.var.as_ref().map_or(0, |v| v.node.total())
            + self.tenant.as_ref().map_or(0, |t| t.total())
    }

    fn size(&self) -> usize {
        1 + self.lits.values().map(Node::size).sum::<usize>()
            + self.var.as_ref().map_or(0, |v| v.node.size())
            + self.tenant.as_ref().map_or(0, |t| t.size())
    }

    fn var_mut(&mut self) -> &mut VarNode {
        self.var.get_or_insert_with(Box::default)
    }

    /// Move the fixed child `seg` into this position's variable.
    fn demote(&mut self, seg: &str, opts: &TreeOptions) {
        if let Some(child) = self.lits.remove(seg) {
            let n = child.total();
            let var = self.var_mut();
            var.stats.add(seg, classify(seg), n);
            var.node.merge(child, opts);
        }
    }

    /// Every fixed child (but pinned ones) joins the variable, and so will later ones.
    fn collapse(&mut self, opts: &TreeOptions) {
        self.collapsed = true;
        let keys: Vec<Box<str>> = self
            .lits
            .iter()
            .filter(|(_, n)| !n.pinned)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            self.demote(&k, opts);
        }
    }

    fn merge(&mut self, o: Node, opts: &TreeOptions) {
        for (m, leaf) in o.ends {
            self.ends.entry(m).or_default().merge(&leaf);
        }
        self.pinned |= o.pinned;
        if o.collapsed && !self.collapsed {
            self.collapse(opts);
        }
        for (k, child) in o.lits {
            if self.collapsed && !child.pinned {
                let n = child.total();
                let var = self.var_mut();
                var.stats.add(&k, classify(&k), n);
                var.node.merge(child, opts);
            } else {
                match self.lits.get_mut(&k) {
                    Some(mine) => mine.merge(child, opts),
                    None => {
                        self.lits.insert(k, child);
                    }
                }
            }
        }
        if let Some(v) = o.var {
            let VarNode { stats, name, node } = *v;
            let mine = self.var_mut();
            mine.stats.merge(&stats);
            if mine.name.is_none() {
                mine.name = name;
            }
            mine.node.merge(node, opts);
        }
        if let Some(t) = o.tenant {
            self.tenant.get_or_insert_with(Box::default).merge(*t, opts);
        }
        if !self.collapsed && self.lits.values().filter(|n| !n.pinned).count() > opts.max_literals {
            self.collapse(opts);
        }
    }
}

/// The fields of a request the tree keeps.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method.
    pub method: &'a str,
    /// The path, without the query, starting with `/`.
    pub path: &'a str,
    /// The query, without `?`.
    pub query: Option<&'a str>,
    /// The status, if logged.
    pub status: Option<u16>,
    /// Request bytes, if logged.
    pub request_bytes: Option<u64>,
    /// Response bytes, if logged.
    pub response_bytes: Option<u64>,
    /// The tenant named by a header or query parameter: a path segment
    /// equal to it is the tenant's position.
    pub tenant: Option<&'a str>,
}

/// The template tree.
#[derive(Debug, Clone)]
pub struct Tree {
    root: Node,
    nodes: usize,
    opts: TreeOptions,
    /// Requests whose path was deeper than [`MAX_DEPTH`].
    pub too_deep: u64,
}

/// One learned endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The method.
    pub method: String,
    /// The template's path segments.
    pub parts: Vec<Part>,
    /// Its requests.
    pub leaf: Leaf,
}

/// One segment of a learned template.
#[derive(Debug, Clone)]
pub enum Part {
    /// A fixed segment.
    Literal(String),
    /// The tenant.
    Tenant,
    /// A variable: the user's name if pinned, and the values' shape.
    Var(Option<String>, VarStats),
}

/// What [`Tree::endpoints`] left out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dropped {
    /// Templates seen fewer than `min_count` times.
    pub rare_templates: u64,
    /// Their requests.
    pub rare_requests: u64,
    /// Fixed segments that joined a variable because they were rare.
    pub rare_segments: u64,
    /// Fixed segments that joined a variable because they looked like personal data.
    pub personal_segments: u64,
}

impl Tree {
    /// An empty tree.
    pub fn new(opts: TreeOptions) -> Self {
        Tree {
            root: Node::default(),
            nodes: 1,
            opts,
            too_deep: 0,
        }
    }

    /// Add one request.
    pub fn add(&mut self, r: &Request<'_>) {
        let Some(rest) = r.path.strip_prefix('/') else { return };
        let segs: smallvec::SmallVec<[&str; 8]> = rest.split('/').collect();
        if segs.len() > MAX_DEPTH {
            self.too_deep += 1;
            return;
        }
        let pin = self
            .opts
            .pins
            .iter()
            .position(|p| p.matches(&segs, self.opts.tenant_segment));
        let Tree { root, nodes, opts, .. } = self;
        let mut node = root;
        for (i, seg) in segs.iter().enumerate() {
            node = match pin.map(|p| &opts.pins[p].parts[i]) {
                Some(PinPart::Literal(l)) => {
                    let child = node.lits.entry(l.as_str().into()).or_insert_with(|| {
                        *nodes += 1;
                        Node::default()
                    });
                    child.pinned = true;
                    child
                }
                Some(PinPart::Var(name)) => {
                    let var = node.var_mut();
                    var.stats.add(seg, classify(seg), 1);
                    var.name.get_or_insert_with(|| name.clone());
                    &mut var.node
                }
                Some(PinPart::Tenant) => node.tenant.get_or_insert_with(Box::default),
                None if opts.tenant_segment == Some(i) || (!seg.is_empty() && r.tenant == Some(*seg)) => {
                    node.tenant.get_or_insert_with(Box::default)
                }
                None => step(node, seg, nodes, opts),
            };
        }
        let leaf = node.ends.entry(r.method.into()).or_default();
        leaf.count += 1;
        let class = r.status.map_or(0, |s| usize::from(s / 100).clamp(1, 5));
        leaf.status[class] += 1;
        if let Some(b) = r.request_bytes {
            leaf.request_bytes.add(b);
        }
        if let Some(b) = r.response_bytes {
            leaf.response_bytes.add(b);
        }
        if let Some(q) = r.query {
            leaf.add_query(q, opts.tenant_query.as_deref());
        }
    }

    /// Add another tree (of the same options) into this one.
    pub fn merge(&mut self, o: Tree) {
        self.too_deep += o.too_deep;
        self.root.merge(o.root, &self.opts);
        self.nodes = self.root.size();
    }

    /// The learned endpoints, each seen at least `min_count` times, and what
    /// was left out. Fixed segments seen fewer than `min_count` times, or that
    /// the personal-data detectors flag, join their position's variable first.
    pub fn endpoints(mut self, min_count: u64) -> (Vec<Endpoint>, Dropped) {
        let mut dropped = Dropped::default();
        let detectors = Detectors::new();
        settle(&mut self.root, min_count, &detectors, &self.opts, &mut dropped);
        let mut out = Vec::new();
        let mut parts = Vec::new();
        collect(self.root, &mut parts, min_count, &mut out, &mut dropped);
        out.sort_by_key(|e| std::cmp::Reverse(e.leaf.count));
        (out, dropped)
    }
}

/// The child of `node` that a non-pinned segment goes to.
fn step<'n>(node: &'n mut Node, seg: &str, nodes: &mut usize, opts: &TreeOptions) -> &'n mut Node {
    let class = classify(seg);
    let fixed = !class.is_variable() && (seg.is_empty() || is_identifier(seg));
    if fixed && !node.collapsed {
        if node.lits.contains_key(seg) {
            return node.lits.get_mut(seg).unwrap_or_else(|| unreachable!("checked above"));
        }
        let free = node.lits.values().filter(|n| !n.pinned).count();
        if free >= opts.max_literals {
            node.collapse(opts);
        } else if *nodes < opts.max_nodes {
            *nodes += 1;
            return node.lits.entry(seg.into()).or_default();
        }
    }
    let var = node.var_mut();
    var.stats.add(seg, class, 1);
    &mut var.node
}

fn settle(node: &mut Node, min_count: u64, detectors: &Detectors, opts: &TreeOptions, dropped: &mut Dropped) {
    let keys: Vec<Box<str>> = node.lits.keys().cloned().collect();
    for k in keys {
        let Some(child) = node.lits.get(&k) else { continue };
        if child.pinned {
            continue;
        }
        if detectors.first(&k).is_some() {
            dropped.personal_segments += 1;
            node.demote(&k, opts);
        } else if child.total() < min_count {
            dropped.rare_segments += 1;
            node.demote(&k, opts);
        }
    }
    for child in node.lits.values_mut() {
        settle(child, min_count, detectors, opts, dropped);
    }
    if let Some(v) = node.var.as_mut() {
        settle(&mut v.node, min_count, detectors, opts, dropped);
    }
    if let Some(t) = node.tenant.as_mut() {
        settle(t, min_count, detectors, opts, dropped);
    }
}

fn collect(node: Node, parts: &mut Vec<Part>, min_count: u64, out: &mut Vec<Endpoint>, dropped: &mut Dropped) {
    for (method, leaf) in node.ends {
        if leaf.count >= min_count {
            out.push(Endpoint {
                method: method.into(),
                parts: parts.clone(),
                leaf,
            });
        } else {
            dropped.rare_templates += 1;
            dropped.rare_requests += leaf.count;
        }
    }
    let mut lits: Vec<(Box<str>, Node)> = node.lits.into_iter().collect();
    lits.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, child) in lits {
        parts.push(Part::Literal(k.into()));
        collect(child, parts, min_count, out, dropped);
        parts.pop();
    }
    if let Some(v) = node.var {
        let VarNode { stats, name, node } = *v;
        parts.push(Part::Var(name, stats));
        collect(node, parts, min_count, out, dropped);
        parts.pop();
    }
    if let Some(t) = node.tenant {
        parts.push(Part::Tenant);
        collect(*t, parts, min_count, out, dropped);
        parts.pop();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn opts() -> TreeOptions {
        TreeOptions {
            max_literals: 20,
            max_nodes: 10_000,
            tenant_segment: None,
            tenant_query: None,
            pins: Vec::new(),
        }
    }

    fn get(path: &str) -> Request<'_> {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        Request {
            method: "GET",
            path,
            query,
            status: Some(200),
            request_bytes: None,
            response_bytes: Some(100),
            tenant: None,
        }
    }

    fn shown(e: &Endpoint) -> String {
        let mut s = format!("{} ", e.method);
        for p in &e.parts {
            s.push('/');
            match p {
                Part::Literal(l) => s.push_str(l),
                Part::Tenant => s.push_str("{{tenant}}"),
                Part::Var(name, stats) => {
                    s.push_str(&format!("{{{{{}}}}}", name.as_deref().unwrap_or(stats.base_name())));
                }
            }
        }
        s
    }

    fn letters(i: usize) -> String {
        i.to_string().bytes().map(|d| char::from(b'a' + d - b'0')).collect()
    }

    fn learn(t: Tree) -> Vec<String> {
        let (eps, _) = t.endpoints(10);
        eps.iter().map(shown).collect()
    }

    #[test]
    fn numbers_and_many_names_become_variables() {
        let mut o = opts();
        o.tenant_segment = Some(1);
        let mut t = Tree::new(o);
        for i in 0..2_000 {
            t.add(&get(&format!("/t/tenant{}/orders/{}", i % 300, 10_000 + i)));
            t.add(&get(&format!("/t/tenant{}/users/user{}", i % 300, letters(i % 50))));
            t.add(&get(&format!(
                "/t/tenant{}/products/{}?q=w{}&page=2",
                i % 300,
                i % 7,
                i % 3
            )));
        }
        let got = learn(t);
        assert_eq!(
            got,
            [
                "GET /t/{{tenant}}/orders/{{id}}",
                "GET /t/{{tenant}}/products/{{id}}",
                "GET /t/{{tenant}}/users/{{slug}}"
            ]
        );
    }

    #[test]
    fn rare_paths_and_personal_data_are_left_out() {
        let mut t = Tree::new(opts());
        for _ in 0..100 {
            t.add(&get("/api/orders"));
            t.add(&get("/api/jane.doe@example.com"));
        }
        t.add(&get("/secret-admin"));
        let (eps, dropped) = t.endpoints(10);
        let got: Vec<String> = eps.iter().map(shown).collect();
        assert_eq!(got, ["GET /api/orders", "GET /api/{{email}}"]);
        assert_eq!(dropped.rare_requests, 1);
    }

    #[test]
    fn pins_win() {
        let mut o = opts();
        o.pins = vec![Pin::parse("/users/{{user}}/settings").unwrap()];
        let mut t = Tree::new(o);
        for i in 0..50 {
            t.add(&get(&format!("/users/u{}/settings", i % 3)));
        }
        assert_eq!(learn(t), ["GET /users/{{user}}/settings"]);
        assert!(Pin::parse("users").is_err());
        assert!(Pin::parse("/a{{x}}").is_err());
    }

    #[test]
    fn merging_two_halves_equals_one_tree() {
        let mut whole = Tree::new(opts());
        let mut a = Tree::new(opts());
        let mut b = Tree::new(opts());
        for i in 0..3_000 {
            let p = format!("/c/{}/x{}", ["a", "b", "c"][i % 3], i % 40);
            whole.add(&get(&p));
            if i % 2 == 0 {
                a.add(&get(&p))
            } else {
                b.add(&get(&p))
            }
        }
        a.merge(b);
        assert_eq!(learn(a), learn(whole));
    }
}
