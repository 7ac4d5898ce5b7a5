//! The lineage graph: codes as nodes, links old → new as edges, its weakly
//! connected components (the lineages), each link's kind and each code's
//! relatives with their hop counts.
//!
//! Nodes are numbered in the order of their codes, so that every order the
//! outputs follow (a lineage named after its smallest code, relatives
//! sorted by code) is the order of the numbers. The searches walk numbers
//! and adjacency vectors, not maps of strings: at ×100 the graph of maps
//! cloned a `String` per step of every search (issue 13).

use std::collections::VecDeque;

use super::{LinkType, Relation, Relative};
use std::collections::HashMap;

use foldhash::fast::FixedState;

use crate::rules::codes::{Code, CodeType};

/// A node: its rank among the codes.
type Node = u32;

/// A directed graph of codes, with its weakly connected components.
pub(super) struct Graph {
    /// The codes, sorted; a node is an index here.
    codes: Vec<Code>,
    /// Each code's node: looked up for every edge and link (a binary
    /// search compared a dozen strings behind pointers, ×100: a million
    /// codes; issue 13).
    index: HashMap<Code, Node, FixedState>,
    /// Each node's successors and predecessors, sorted.
    pub(super) successors: Vec<Vec<Node>>,
    pub(super) predecessors: Vec<Vec<Node>>,
    /// Each node's component.
    component_of: Vec<u32>,
    /// Each component's lineage id (`L-` and its smallest code).
    lineage_ids: Vec<Code>,
    /// Each component's number of codes.
    pub(super) component_sizes: Vec<usize>,
}

impl Graph {
    pub(super) fn new<'e>(edges: impl Iterator<Item = (&'e str, &'e str)>) -> Graph {
        let edges: Vec<(&str, &str)> = edges.collect();
        let mut codes: Vec<Code> = edges
            .iter()
            .flat_map(|&(old, new)| [old, new])
            .map(Code::from)
            .collect();
        {
            use rayon::slice::ParallelSliceMut as _;
            codes.par_sort_unstable();
        }
        codes.dedup();
        let index: HashMap<Code, Node, FixedState> = codes
            .iter()
            .zip(0..)
            .map(|(code, node)| (code.clone(), node))
            .collect();
        let mut successors = vec![Vec::new(); codes.len()];
        let mut predecessors = vec![Vec::new(); codes.len()];
        let node = |code: &str| -> Node { index[code] };
        for &(old, new) in &edges {
            let (old, new) = (node(old), node(new));
            successors[old as usize].push(new);
            predecessors[new as usize].push(old);
        }
        for list in successors.iter_mut().chain(predecessors.iter_mut()) {
            list.sort_unstable();
            list.dedup();
        }
        let mut graph = Graph {
            codes,
            index,
            successors,
            predecessors,
            component_of: Vec::new(),
            lineage_ids: Vec::new(),
            component_sizes: Vec::new(),
        };
        graph.find_components();
        graph
    }

    /// The codes, sorted.
    pub(super) fn nodes(&self) -> impl Iterator<Item = &str> {
        self.codes.iter().map(Code::as_str)
    }

    fn node(&self, code: &str) -> Option<Node> {
        self.index.get(code).copied()
    }

    fn neighbours(&self, node: Node) -> impl Iterator<Item = Node> + '_ {
        let n = node as usize;
        self.successors[n]
            .iter()
            .chain(&self.predecessors[n])
            .copied()
    }

    /// Weakly connected components; nodes are visited in sorted order, so the
    /// first node reached of a component is its smallest code: its id.
    fn find_components(&mut self) {
        const UNSEEN: u32 = u32::MAX;
        let mut component_of = vec![UNSEEN; self.codes.len()];
        let mut queue = VecDeque::new();
        for start in 0..self.codes.len() {
            if component_of[start] != UNSEEN {
                continue;
            }
            let component = self.lineage_ids.len() as u32;
            self.lineage_ids
                .push(compact_str::format_compact!("L-{}", self.codes[start]));
            component_of[start] = component;
            queue.push_back(start as Node);
            let mut size = 0;
            while let Some(node) = queue.pop_front() {
                size += 1;
                for next in self.neighbours(node) {
                    if component_of[next as usize] == UNSEEN {
                        component_of[next as usize] = component;
                        queue.push_back(next);
                    }
                }
            }
            self.component_sizes.push(size);
        }
        self.component_of = component_of;
    }

    pub(super) fn lineage_id(&self, code: &str) -> &str {
        let node = self.node(code).expect("every linked code has a component");
        &self.lineage_ids[self.component_of[node as usize] as usize]
    }

    pub(super) fn link_type(&self, old: &str, new: &str) -> LinkType {
        let out = self
            .node(old)
            .map_or(0, |n| self.successors[n as usize].len());
        let inn = self
            .node(new)
            .map_or(0, |n| self.predecessors[n as usize].len());
        LinkType::classify(out, inn)
    }

    fn is_one_to_one(&self, old: Node, new: Node) -> bool {
        let out = self.successors[old as usize].len();
        let inn = self.predecessors[new as usize].len();
        LinkType::classify(out, inn) == LinkType::OneToOne
    }

    /// Every (code, relative) pair, by breadth-first search in each
    /// direction; by code, ancestors then descendants, relatives by code.
    pub(super) fn relatives(&self, code_type: CodeType) -> Vec<Relative> {
        let mut out = Vec::new();
        // Per node, the search that last reached it (searches are numbered
        // from 1), so that nothing is cleared between searches.
        let mut reached_by = vec![0u32; self.codes.len()];
        let mut search = 0u32;
        let mut queue = VecDeque::new();
        // The relatives of one search: node, hops, and whether it was
        // reached through one-to-one links only.
        let mut seen: Vec<(Node, u32, bool)> = Vec::new();
        for node in 0..self.codes.len() as Node {
            let lineage_id = &self.lineage_ids[self.component_of[node as usize] as usize];
            for relation in [Relation::Ancestor, Relation::Descendant] {
                let step = match relation {
                    Relation::Ancestor => &self.predecessors,
                    Relation::Descendant => &self.successors,
                };
                search += 1;
                reached_by[node as usize] = search;
                seen.clear();
                queue.push_back((node, 0u32, true));
                while let Some((current, hops, strict)) = queue.pop_front() {
                    for &next in &step[current as usize] {
                        if reached_by[next as usize] == search {
                            continue;
                        }
                        reached_by[next as usize] = search;
                        let one_to_one = match relation {
                            Relation::Ancestor => self.is_one_to_one(next, current),
                            Relation::Descendant => self.is_one_to_one(current, next),
                        };
                        let strict_next = strict && one_to_one;
                        seen.push((next, hops + 1, strict_next));
                        queue.push_back((next, hops + 1, strict_next));
                    }
                }
                seen.sort_unstable_by_key(|&(related, _, _)| related);
                for &(related, hops, strict) in &seen {
                    out.push(Relative {
                        code_type,
                        code: self.codes[node as usize].clone(),
                        lineage_id: lineage_id.clone(),
                        relation,
                        related_code: self.codes[related as usize].clone(),
                        hops,
                        one_to_one_path: strict,
                    });
                }
            }
        }
        out
    }
}
