//! A checkpoint's names as a scope tree: which tensors are training state rather than
//! model, the tree itself in a reader's order, a structural signature per subtree (equal
//! names, shapes and dtypes: equal signature), and runs of indexed sub-scopes
//! (`layer_0..layer_N`) with one signature.

use scope::checkpoint::{StoredDType, TensorInfo};
use scope::optim::slots;

use super::naming::{child_cmp_same_place, indexed, place};
use super::split::Split;
use super::{shorten, CliError, Map, Result, Set, MAX_DEPTH};

/// Why a tensor is training state rather than part of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrainingState {
    /// An optimizer slot of another tensor: `bert/x/adam_m` is slot `adam_m` of `bert/x`.
    Slot {
        /// The slot's name (`Adam`, `Adam_1`, `adam_m`, `Momentum`, ...).
        slot: String,
        /// The tensor it belongs to.
        of: String,
    },
    /// A step counter or an optimizer's own state: `global_step`, `beta1_power`, ...
    Counter(String),
}

impl TrainingState {
    /// What it is grouped under: the slot name, or the counter's name.
    pub fn kind(&self) -> &str {
        match self {
            TrainingState::Slot { slot, .. } => slot,
            TrainingState::Counter(name) => name,
        }
    }
}

/// For each tensor, whether it is training state. A slot counts only when the tensor it
/// belongs to is in the checkpoint, under the optimizer's name scope or not
/// (`rnn/trian/rnn/w/Adam` is a slot of `rnn/w`): a model variable that happens to be called
/// `Adam` stays a model variable.
pub fn training_state(tensors: &[TensorInfo]) -> Vec<Option<TrainingState>> {
    let names: Set<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
    tensors
        .iter()
        .map(|t| {
            let last = t.name.rsplit('/').next().unwrap_or_default();
            if slots::is_counter(last) {
                return Some(TrainingState::Counter(last.to_owned()));
            }
            let (parent, last) = slots::split_slot(&t.name)?;
            // The owner is the parent path or a tail of it (slots live under the optimizer's
            // name scope); only the first few tails are tried, which bounds the cost.
            let mut tail = parent;
            for _ in 0..8 {
                if names.contains(tail) && tail != t.name {
                    return Some(TrainingState::Slot {
                        slot: last.to_owned(),
                        of: tail.to_owned(),
                    });
                }
                tail = tail.split_once('/')?.1;
            }
            None
        })
        .collect()
}

/// A node of the scope tree.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// The last component of its name.
    pub(crate) name: String,
    /// Its tensor (an index into the list the tree was built from), if it is a variable.
    pub(crate) tensor: Option<usize>,
    /// Children in a reader's order (a variable before a scope of the same name).
    pub(crate) children: Vec<usize>,
    /// Structural signature: equal for subtrees with equal names, shapes and dtypes.
    pub(crate) sig: u32,
    /// Variables in the subtree.
    pub(crate) vars: usize,
    /// Elements in the subtree.
    pub(crate) elements: u128,
    /// Bytes in the subtree (tensors of unknown element size count 0).
    pub(crate) bytes: u128,
}

impl Node {
    fn new(name: &str, tensor: Option<usize>) -> Node {
        Node {
            name: name.to_owned(),
            tensor,
            children: Vec::new(),
            sig: 0,
            vars: 0,
            elements: 0,
            bytes: 0,
        }
    }
}

/// A scope tree over a list of tensors. Node 0 is the root; a parent's index is always
/// below its children's.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<Node>,
}

/// What a variable's signature holds beside its dtype and shape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct VarMeta {
    /// The saved trainable flag, if the checkpoint records one.
    pub(crate) trainable: Option<bool>,
    /// How it is sliced, if it is a partitioned variable.
    pub(crate) split: Option<Split>,
}

#[derive(Hash, PartialEq, Eq)]
enum SigKey {
    Var(StoredDType, Vec<usize>, VarMeta),
    /// Each child's name (interned), whether it is a variable, and its signature.
    Scope(Vec<(u32, bool, u32)>),
}

/// The element size of a stored dtype, by TF's or safetensors' name; `None` if unknown.
pub(crate) fn element_size(dtype: &StoredDType) -> Option<u128> {
    match dtype {
        StoredDType::Supported(d) => Some(d.size_of() as u128),
        StoredDType::Unsupported(name) => {
            let n = name.to_ascii_lowercase();
            let size = match n.as_str() {
                "bool" | "int8" | "uint8" | "i8" | "u8" | "quint8" | "qint8" => 1,
                "bfloat16" | "bf16" | "int16" | "uint16" | "i16" | "u16" | "half" => 2,
                "uint32" | "u32" | "qint32" => 4,
                "uint64" | "u64" | "complex64" | "c64" => 8,
                "complex128" | "c128" => 16,
                _ if n.starts_with("f8") || n.starts_with("float8") => 1,
                _ => return None,
            };
            Some(size)
        }
    }
}

/// The number of elements of `shape` (saturating: a hostile shape cannot overflow).
pub(crate) fn elements(shape: &[usize]) -> u128 {
    shape
        .iter()
        .fold(1u128, |acc, &d| acc.saturating_mul(d as u128))
}

impl Tree {
    /// Builds the tree of `names` (each `(index, name)` with the index into `tensors`).
    /// `meta` gives a variable's saved flag and slicing, which are part of its signature.
    pub(crate) fn build(
        tensors: &[TensorInfo],
        members: &[(usize, &str)],
        meta: &dyn Fn(usize) -> VarMeta,
    ) -> Result<Tree> {
        let mut nodes = vec![Node::new("", None)];
        let mut scopes: Map<(usize, &str), usize> = Map::default();
        for &(index, name) in members {
            let depth = name.split('/').count();
            if depth > MAX_DEPTH {
                return Err(CliError::TooDeep {
                    name: shorten(name),
                    depth,
                    max: MAX_DEPTH,
                });
            }
            let mut parent = 0;
            let mut parts = name.split('/').peekable();
            while let Some(part) = parts.next() {
                if parts.peek().is_none() {
                    let id = nodes.len();
                    nodes.push(Node::new(part, Some(index)));
                    nodes[parent].children.push(id);
                } else {
                    parent = *scopes.entry((parent, part)).or_insert_with(|| {
                        let id = nodes.len();
                        nodes.push(Node::new(part, None));
                        nodes[parent].children.push(id);
                        id
                    });
                }
            }
        }
        // Children before parents: sort, then sign and sum bottom-up.
        let places: Vec<_> = nodes.iter().map(|n| place(&n.name)).collect();
        let name_ids: Vec<u32> = {
            let mut names: Map<&str, u32> = Map::default();
            nodes
                .iter()
                .map(|n| {
                    let next = names.len() as u32;
                    *names.entry(n.name.as_str()).or_insert(next)
                })
                .collect()
        };
        let mut interned: Map<SigKey, u32> = Map::default();
        for id in (0..nodes.len()).rev() {
            let mut children = std::mem::take(&mut nodes[id].children);
            children.sort_by(|&a, &b| {
                places[a]
                    .cmp(&places[b])
                    .then_with(|| child_cmp_same_place(&nodes[a].name, &nodes[b].name))
                    .then_with(|| nodes[b].tensor.is_some().cmp(&nodes[a].tensor.is_some()))
            });
            let key = match nodes[id].tensor {
                Some(t) => {
                    let info = &tensors[t];
                    let n = elements(&info.shape);
                    let node = &mut nodes[id];
                    node.vars = 1;
                    node.elements = n;
                    node.bytes = element_size(&info.dtype).map_or(0, |s| s.saturating_mul(n));
                    SigKey::Var(info.dtype.clone(), info.shape.clone(), meta(t))
                }
                None => {
                    let (mut vars, mut elems, mut bytes) = (0, 0u128, 0u128);
                    let mut key = Vec::with_capacity(children.len());
                    for &c in &children {
                        let child = &nodes[c];
                        vars += child.vars;
                        elems = elems.saturating_add(child.elements);
                        bytes = bytes.saturating_add(child.bytes);
                        key.push((name_ids[c], child.tensor.is_some(), child.sig));
                    }
                    let node = &mut nodes[id];
                    node.vars = vars;
                    node.elements = elems;
                    node.bytes = bytes;
                    SigKey::Scope(key)
                }
            };
            let next = interned.len() as u32;
            nodes[id].sig = *interned.entry(key).or_insert(next);
            nodes[id].children = children;
        }
        Ok(Tree { nodes })
    }

    /// The node `id`.
    pub(crate) fn node(&self, id: usize) -> &Node {
        &self.nodes[id]
    }

    /// Whether `id` is a scope (not a variable).
    pub(crate) fn is_scope(&self, id: usize) -> bool {
        self.nodes[id].tensor.is_none()
    }

    /// The children of scope `id` with runs of indexed sub-scopes folded: every
    /// `prefix_0 .. prefix_{n-1}` (no gaps, `n >= min_run`) whose subtrees have one
    /// signature becomes one [`Group::Run`], placed where its first member is.
    pub(crate) fn groups(&self, id: usize, min_run: usize) -> Vec<Group> {
        let children = &self.nodes[id].children;
        let mut runs: Map<&str, Vec<(usize, usize)>> = Map::default();
        for &c in children {
            if !self.is_scope(c) {
                continue;
            }
            if let Some((prefix, index)) = indexed(&self.nodes[c].name) {
                runs.entry(prefix).or_default().push((index, c));
            }
        }
        let mut folded: Map<usize, (String, Vec<usize>)> = Map::default();
        let mut member: Set<usize> = Set::default();
        for (prefix, mut items) in runs {
            items.sort_unstable();
            let complete = items.len() >= min_run.max(1)
                && items.iter().enumerate().all(|(i, &(index, _))| i == index)
                && items
                    .iter()
                    .all(|&(_, c)| self.nodes[c].sig == self.nodes[items[0].1].sig);
            if complete {
                let members: Vec<usize> = items.iter().map(|&(_, c)| c).collect();
                member.extend(members.iter().copied());
                folded.insert(items[0].1, (prefix.to_owned(), members));
            }
        }
        let mut out = Vec::with_capacity(children.len());
        for &c in children {
            if let Some((prefix, members)) = folded.remove(&c) {
                out.push(Group::Run { prefix, members });
            } else if !member.contains(&c) {
                out.push(Group::One(c));
            }
        }
        out
    }
}

/// One entry of a scope's folded children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    /// A variable or a sub-scope.
    One(usize),
    /// `prefix_0 .. prefix_{n-1}`, identical subtrees.
    Run {
        /// The name before `_N`.
        prefix: String,
        /// The sub-scopes, by index.
        members: Vec<usize>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use scope::DType;

    pub(crate) fn info(name: &str, shape: &[usize]) -> TensorInfo {
        TensorInfo {
            name: name.to_owned(),
            dtype: StoredDType::Supported(DType::F32),
            shape: shape.to_vec(),
        }
    }

    fn tree_of(tensors: &[TensorInfo]) -> Tree {
        let members: Vec<(usize, &str)> = tensors
            .iter()
            .enumerate()
            .map(|(i, t)| (i, t.name.as_str()))
            .collect();
        Tree::build(tensors, &members, &|_| VarMeta::default()).unwrap()
    }

    #[test]
    fn slots_need_their_variable() {
        let tensors = [
            info("rnn/trian/beta1_power", &[]),
            info("rnn/trian/rnn/w/Adam", &[2]),
            info("rnn/trian/rnn/w/Adam_1", &[2]),
            info("rnn/w", &[2]),
            info("x/Adam", &[2]),
            info("global_step", &[]),
        ];
        let state = training_state(&tensors);
        assert_eq!(
            state[0],
            Some(TrainingState::Counter("beta1_power".to_owned()))
        );
        assert_eq!(
            state[2],
            Some(TrainingState::Slot {
                slot: "Adam_1".to_owned(),
                of: "rnn/w".to_owned()
            })
        );
        assert_eq!(state[3], None);
        assert_eq!(state[4], None, "no tensor `x`: a model variable named Adam");
        assert!(state[5].is_some());
    }

    #[test]
    fn folds_identical_indexed_scopes() {
        let mut tensors = Vec::new();
        for i in 0..12 {
            tensors.push(info(&format!("enc/layer_{i}/dense/kernel"), &[4, 4]));
            tensors.push(info(&format!("enc/layer_{i}/dense/bias"), &[4]));
        }
        tensors.push(info("enc/final", &[4]));
        tensors.sort_by(|a, b| a.name.cmp(&b.name));
        let tree = tree_of(&tensors);
        let enc = tree.node(0).children[0];
        let groups = tree.groups(enc, 2);
        assert_eq!(groups.len(), 2);
        assert_eq!(
            groups[0],
            Group::One(tree.node(enc).children[0]),
            "`final` sorts first"
        );
        let Group::Run { prefix, members } = &groups[1] else {
            panic!("expected a run: {groups:?}")
        };
        assert_eq!(prefix, "layer");
        assert_eq!(members.len(), 12);
        assert_eq!(tree.node(members[10]).name, "layer_10");
        assert_eq!(tree.node(enc).vars, 25);
        assert_eq!(tree.node(enc).bytes, 4 * (12 * 20 + 4));
        // kernel before bias
        let dense = tree.node(members[0]).children[0];
        let names: Vec<_> = tree
            .node(dense)
            .children
            .iter()
            .map(|&c| tree.node(c).name.as_str())
            .collect();
        assert_eq!(names, ["kernel", "bias"]);
    }

    #[test]
    fn a_differing_member_breaks_the_run() {
        let tensors = [
            info("layer_0/w", &[2]),
            info("layer_1/w", &[3]),
            info("layer_2/w", &[2]),
        ];
        let tree = tree_of(&tensors);
        assert_eq!(tree.groups(0, 2).len(), 3);
        let gap = [info("layer_0/w", &[2]), info("layer_2/w", &[2])];
        assert_eq!(tree_of(&gap).groups(0, 1).len(), 2);
    }

    #[test]
    fn a_variable_and_a_scope_may_share_a_name() {
        let tensors = [info("a", &[1]), info("a/b", &[2])];
        let tree = tree_of(&tensors);
        assert_eq!(tree.node(0).children.len(), 2);
    }

    #[test]
    fn refuses_absurd_depth() {
        let name = vec!["a"; MAX_DEPTH + 1].join("/");
        let tensors = [info(&name, &[1])];
        let members = [(0, tensors[0].name.as_str())];
        let err = Tree::build(&tensors, &members, &|_| VarMeta::default()).unwrap_err();
        assert!(err.to_string().contains("nested 257 scopes deep"), "{err}");
    }
}
