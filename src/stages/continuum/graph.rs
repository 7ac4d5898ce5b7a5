//! The lineage graph: codes as nodes, links old → new as edges, its weakly
//! connected components (the lineages), each link's kind and each code's
//! relatives with their hop counts.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{LinkType, Relation, Relative};
use crate::rules::codes::CodeType;

/// A directed graph of codes, with its weakly connected components.
pub(super) struct Graph {
    pub(super) successors: BTreeMap<String, BTreeSet<String>>,
    pub(super) predecessors: BTreeMap<String, BTreeSet<String>>,
    /// Code → lineage id (the smallest code of its component).
    component_of: BTreeMap<String, String>,
    pub(super) component_sizes: BTreeMap<String, usize>,
}

impl Graph {
    pub(super) fn new(edges: impl Iterator<Item = (String, String)>) -> Graph {
        let mut successors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut predecessors: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (old, new) in edges {
            successors
                .entry(old.clone())
                .or_default()
                .insert(new.clone());
            predecessors.entry(new).or_default().insert(old);
        }
        let mut graph = Graph {
            successors,
            predecessors,
            component_of: BTreeMap::new(),
            component_sizes: BTreeMap::new(),
        };
        graph.find_components();
        graph
    }

    pub(super) fn nodes(&self) -> impl Iterator<Item = &str> {
        self.successors
            .keys()
            .chain(self.predecessors.keys())
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
            .into_iter()
    }

    fn neighbours<'a>(&'a self, code: &str) -> impl Iterator<Item = &'a String> {
        self.successors
            .get(code)
            .into_iter()
            .flatten()
            .chain(self.predecessors.get(code).into_iter().flatten())
    }

    /// Weakly connected components; nodes are visited in sorted order, so the
    /// first node reached of a component is its smallest code: its id.
    fn find_components(&mut self) {
        let nodes: Vec<String> = self.nodes().map(str::to_string).collect();
        let mut component_of = BTreeMap::new();
        let mut sizes = BTreeMap::new();
        for start in &nodes {
            if component_of.contains_key(start) {
                continue;
            }
            let id = format!("L-{start}");
            let mut queue = VecDeque::from([start.clone()]);
            component_of.insert(start.clone(), id.clone());
            let mut size = 0;
            while let Some(code) = queue.pop_front() {
                size += 1;
                for next in self.neighbours(&code) {
                    if !component_of.contains_key(next) {
                        component_of.insert(next.clone(), id.clone());
                        queue.push_back(next.clone());
                    }
                }
            }
            sizes.insert(id, size);
        }
        self.component_of = component_of;
        self.component_sizes = sizes;
    }

    pub(super) fn lineage_id(&self, code: &str) -> &str {
        self.component_of
            .get(code)
            .map(String::as_str)
            .expect("every linked code has a component")
    }

    pub(super) fn link_type(&self, old: &str, new: &str) -> LinkType {
        let out = self.successors.get(old).map_or(0, BTreeSet::len);
        let inn = self.predecessors.get(new).map_or(0, BTreeSet::len);
        LinkType::classify(out, inn)
    }

    fn is_one_to_one(&self, old: &str, new: &str) -> bool {
        self.link_type(old, new) == LinkType::OneToOne
    }

    /// Every (code, relative) pair, by breadth-first search in each direction.
    pub(super) fn relatives(&self, code_type: CodeType) -> Vec<Relative> {
        let mut out = Vec::new();
        for code in self.nodes() {
            let lineage_id = self.lineage_id(code).to_string();
            for relation in [Relation::Ancestor, Relation::Descendant] {
                let step = |c: &str| -> Vec<String> {
                    let next = match relation {
                        Relation::Ancestor => self.predecessors.get(c),
                        Relation::Descendant => self.successors.get(c),
                    };
                    next.into_iter().flatten().cloned().collect()
                };
                // hops and whether the code was reached through one-to-one links only.
                let mut seen: BTreeMap<String, (u32, bool)> = BTreeMap::new();
                let mut queue = VecDeque::from([(code.to_string(), 0u32, true)]);
                while let Some((current, hops, strict)) = queue.pop_front() {
                    for next in step(&current) {
                        if next == code || seen.contains_key(&next) {
                            continue;
                        }
                        let one_to_one = match relation {
                            Relation::Ancestor => self.is_one_to_one(&next, &current),
                            Relation::Descendant => self.is_one_to_one(&current, &next),
                        };
                        let strict_next = strict && one_to_one;
                        seen.insert(next.clone(), (hops + 1, strict_next));
                        queue.push_back((next, hops + 1, strict_next));
                    }
                }
                for (related, (hops, strict)) in seen {
                    out.push(Relative {
                        code_type,
                        code: code.to_string(),
                        lineage_id: lineage_id.clone(),
                        relation,
                        related_code: related,
                        hops,
                        one_to_one_path: strict,
                    });
                }
            }
        }
        out
    }
}
