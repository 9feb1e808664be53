//! `scope import`: the `model!` source that declares a checkpoint's model variables.
//!
//! The structure is found in the names: a run of identical indexed sub-scopes
//! (`layer_0 .. layer_N`) becomes one repeated sub-model with a count argument; a sub-scope
//! whose content (names, shapes, dtypes) appears several times becomes one sub-model type
//! used several times; every dimension becomes a named constructor argument, named after
//! where it occurs (`hidden`, `vocab_size`, `intermediate_size`, ...), with the
//! checkpoint's value in a constant. TF names that are no Rust identifier keep their name
//! through the DSL's explicit names.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use scope_runtime::checkpoint::StoredDType;
use scope_runtime::DType;

use super::naming::{
    camel_ident, comment_safe, const_ident, field_name, is_tf_component, is_tf_root, snake_ident,
    string_lit,
};
use super::tree::{training_state, Group, Tree};
use super::{shorten, Checkpoint, CliError, Map, Result, Set};

/// What `import` generates.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The top model's type name (`Bert`).
    pub name: String,
    /// Declare only the variables under this scope (`bert`), which becomes the model's own.
    pub scope: Option<String>,
    /// The command line, quoted in the generated header.
    pub command: Option<String>,
}

/// Indexed runs of one sub-scope fold from this many members on (`layer_0` alone is a
/// one-layer stack).
const MIN_RUN: usize = 1;

/// At most this many dimensions become arguments (the most frequent); the rest stay
/// literals.
const MAX_DIM_ARGS: usize = 24;

/// A dimension is named after (at most) this many of its first occurrences.
const NAMING_EXAMPLES: usize = 64;

/// Where the model is built.
enum Placement {
    /// In its own scope (`Name::new` opens it).
    Scoped(String),
    /// At the registry's current scope (the checkpoint's root): `Model::build_here`.
    Root,
}

/// One declaration inside a model body.
enum Item {
    Var {
        field: String,
        /// The TF name, when the field's identifier does not spell it.
        name: Option<String>,
        tensor: usize,
        trainable: Option<bool>,
    },
    Model {
        field: String,
        /// The scope (or, repeated, the scopes' prefix), when not the default.
        scope: Option<String>,
        ty: usize,
        /// A repeated sub-model: the count, and its argument (set when arguments are named).
        repeat: Option<(usize, usize)>,
    },
    Scope {
        field: String,
        name: Option<String>,
        items: Vec<Item>,
    },
}

/// A generated struct.
struct Def {
    name: String,
    scope: String,
    /// The node whose children it declares.
    node: usize,
    /// Where it is used (scope paths), for its doc line.
    uses: Vec<String>,
    uses_count: usize,
    items: Vec<Item>,
    args: Vec<usize>,
}

/// A constructor argument.
struct Arg {
    name: String,
    value: usize,
    /// A repeat count rather than a dimension.
    count: bool,
}

/// How a dimension is written: an argument, or a multiple of one. Others are literals.
#[derive(Clone, Copy)]
enum Dim {
    Arg(usize),
    Times(usize, usize),
}

/// A place where a dimension occurs.
struct Slot {
    value: usize,
    axis: usize,
    rank: usize,
    /// The variable's node.
    node: usize,
}

struct Ctx<'a> {
    tree: &'a Tree,
    ckpt: &'a Checkpoint,
    parent: Vec<usize>,
    /// The node of each declared tensor.
    var_node: Map<usize, usize>,
    /// Type (index into `defs`) of a signature, for sub-scopes declared as sub-models.
    type_of: Map<u32, usize>,
    defs: Vec<Def>,
}

/// Generates the Rust source declaring the model variables of `ckpt`.
pub fn import(ckpt: &Checkpoint, opts: &ImportOptions) -> Result<String> {
    let type_name_ok = opts.name.starts_with(|c: char| c.is_ascii_alphabetic())
        && opts
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && opts.name != "Self";
    if !type_name_ok {
        return Err(CliError::Undeclarable {
            name: opts.name.clone(),
            reason: "--name must be a Rust type name such as `Bert`".to_owned(),
        });
    }
    if let Some(s) = &opts.scope {
        if !is_tf_root(s) {
            return Err(CliError::Undeclarable {
                name: s.clone(),
                reason: "--scope must be a scope name TF accepts at the root \
                         (`^[A-Za-z0-9.][A-Za-z0-9_.\\\\/>-]*$`, no empty components)"
                    .to_owned(),
            });
        }
    }
    let tensors = ckpt.tensors();
    let state = training_state(tensors);
    let mut model: Vec<(usize, &str)> = Vec::new();
    let mut unsupported: Vec<usize> = Vec::new();
    for (i, t) in tensors.iter().enumerate() {
        if state[i].is_some() {
            continue;
        }
        let rel = match &opts.scope {
            Some(s) => match t
                .name
                .strip_prefix(s.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                Some(rel) => rel,
                None => continue,
            },
            None => t.name.as_str(),
        };
        if t.dtype.supported().is_none() {
            unsupported.push(i);
            continue;
        }
        model.push((i, rel));
    }
    if model.is_empty() {
        return Err(CliError::Empty {
            location: ckpt.location().to_owned(),
            what: opts
                .scope
                .as_ref()
                .map(|s| format!(" under scope `{s}`"))
                .unwrap_or_default(),
        });
    }
    let placement = match &opts.scope {
        Some(s) => Placement::Scoped(s.clone()),
        None => {
            let first = model[0].1.split('/').next().unwrap_or_default();
            let shared = model.iter().all(|(_, n)| {
                n.split_once('/')
                    .is_some_and(|(head, rest)| head == first && !rest.is_empty())
            });
            if shared && is_tf_root(first) {
                for (_, n) in &mut model {
                    *n = &n[first.len() + 1..];
                }
                Placement::Scoped(first.to_owned())
            } else {
                Placement::Root
            }
        }
    };
    for &(i, rel) in &model {
        let bad = rel.split('/').find(|c| !is_tf_component(c));
        let reason = match bad {
            Some("") => {
                Some("it has an empty scope component (`a//b`, or a `/` at an end)".to_owned())
            }
            Some(c) => Some(format!(
                "`{}` has characters TF's scope and variable names refuse (they match \
                 `^[A-Za-z0-9_.\\\\/>-]*$`)",
                comment_safe(&shorten(c))
            )),
            None if matches!(placement, Placement::Root) && !is_tf_root(rel) => Some(
                "at the root a name must start with a letter, a digit or `.`; import it \
                 under a scope with --scope"
                    .to_owned(),
            ),
            None => None,
        };
        if let Some(reason) = reason {
            return Err(CliError::Undeclarable {
                name: comment_safe(&shorten(&tensors[i].name)),
                reason,
            });
        }
    }
    let tree = Tree::build(tensors, &model, &|i| ckpt.trainable(&tensors[i].name))?;
    let mut parent = vec![0; tree.nodes.len()];
    for (id, node) in tree.nodes.iter().enumerate() {
        for &c in &node.children {
            parent[c] = id;
        }
    }
    let var_node = tree
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(id, n)| n.tensor.map(|t| (t, id)))
        .collect();
    let mut cx = Ctx {
        tree: &tree,
        ckpt,
        parent,
        var_node,
        type_of: Map::default(),
        defs: Vec::new(),
    };
    let top_scope = match &placement {
        Placement::Scoped(s) => s.clone(),
        Placement::Root => snake_ident(&opts.name),
    };
    cx.find_types(&opts.name, top_scope);
    // Every struct's (flattened) field names, which no argument may shadow.
    let mut fields: Set<String> = Set::default();
    for d in 0..cx.defs.len() {
        let node = cx.defs[d].node;
        let mut taken = Set::default();
        cx.defs[d].items = cx.body(node, "", &mut taken);
        fields.extend(taken);
    }
    let (args, dims) = cx.name_args(&fields);
    cx.def_args(&args, &dims);
    let source = render(&cx, &args, &dims, &placement, opts, &state, &unsupported);
    Ok(source)
}

impl Ctx<'_> {
    fn path_of(&self, mut id: usize) -> String {
        let mut parts = Vec::new();
        while id != 0 {
            parts.push(self.tree.node(id).name.as_str());
            id = self.parent[id];
        }
        parts.reverse();
        parts.join("/")
    }

    /// Chooses the sub-model types: the top model, every run's member, and every sub-scope
    /// whose content occurs more than once (counted in the declarations, so that what sits
    /// inside a repeated or shared type counts once).
    fn find_types(&mut self, top: &str, top_scope: String) {
        self.defs.push(Def {
            name: top.to_owned(),
            scope: top_scope,
            node: 0,
            uses: Vec::new(),
            uses_count: 0,
            items: Vec::new(),
            args: Vec::new(),
        });
        // (signature, first node, names it occurs under, paths, run prefix)
        let mut order: Vec<u32> = Vec::new();
        let mut info: Map<u32, (usize, Vec<String>, Vec<String>, bool)> = Map::default();
        let mut stack = vec![0usize];
        let mut seen: Set<u32> = Set::default();
        while let Some(id) = stack.pop() {
            let mut next = Vec::new();
            for g in self.tree.groups(id, MIN_RUN) {
                let (first, name, run) = match &g {
                    Group::One(c) if self.tree.is_scope(*c) => {
                        (*c, self.tree.node(*c).name.clone(), false)
                    }
                    Group::One(_) => continue,
                    Group::Run { prefix, members } => (members[0], prefix.clone(), true),
                };
                let sig = self.tree.node(first).sig;
                let path = self.path_of(first);
                let entry = info.entry(sig).or_insert_with(|| {
                    order.push(sig);
                    (first, Vec::new(), Vec::new(), false)
                });
                entry.1.push(name);
                entry.2.push(path);
                entry.3 |= run;
                if seen.insert(sig) {
                    next.push(first);
                }
            }
            // Depth-first, in declaration order.
            stack.extend(next.into_iter().rev());
        }
        let mut names_taken: Set<String> = Set::from_iter([top.to_owned()]);
        for sig in order {
            let (node, names, paths, run) = &info[&sig];
            let n = self.tree.node(*node);
            let structured = n.vars >= 2 || n.children.iter().any(|&c| self.tree.is_scope(c));
            if !(*run || (names.len() >= 2 && structured)) {
                continue;
            }
            let child_names: BTreeSet<&str> = n
                .children
                .iter()
                .map(|&c| self.tree.node(c).name.as_str())
                .collect();
            let common = most_common(names);
            let base = if *run {
                camel_ident(common)
            } else if child_names == BTreeSet::from(["kernel", "bias"]) {
                "Dense".to_owned()
            } else if child_names == BTreeSet::from(["beta", "gamma"]) {
                "LayerNorm".to_owned()
            } else {
                camel_ident(common)
            };
            let mut name = base.clone();
            let mut k = 2;
            while !names_taken.insert(name.clone()) {
                name = format!("{base}{k}");
                k += 1;
            }
            let scope = if is_tf_root(common) {
                common.to_owned()
            } else {
                snake_ident(&name)
            };
            self.type_of.insert(sig, self.defs.len());
            self.defs.push(Def {
                name,
                scope,
                node: *node,
                uses: paths.iter().take(4).cloned().collect(),
                uses_count: paths.len(),
                items: Vec::new(),
                args: Vec::new(),
            });
        }
    }

    /// Claims a field name in a struct: `ident`, or `ident_2`, ... if flattening made it
    /// collide. Returns the identifier and whether it was renamed.
    fn claim(taken: &mut Set<String>, prefix: &str, ident: &str) -> (String, bool) {
        let bare = ident.trim_start_matches("r#");
        let flat = |id: &str| {
            if prefix.is_empty() {
                id.to_owned()
            } else {
                format!("{prefix}_{id}")
            }
        };
        if taken.insert(flat(bare)) {
            return (ident.to_owned(), false);
        }
        let mut k = 2;
        loop {
            let candidate = format!("{bare}_{k}");
            if taken.insert(flat(&candidate)) {
                return (candidate, true);
            }
            k += 1;
        }
    }

    /// The declarations of scope `id`'s children.
    fn body(&self, id: usize, prefix: &str, taken: &mut Set<String>) -> Vec<Item> {
        let node = self.tree.node(id);
        let var_names: Set<&str> = node
            .children
            .iter()
            .filter(|&&c| !self.tree.is_scope(c))
            .map(|&c| self.tree.node(c).name.as_str())
            .collect();
        let groups = self.tree.groups(id, MIN_RUN);
        // Fields that spell their TF name claim their identifier before the renamed ones
        // (`a_b` keeps `a_b`; `a.b` becomes `a_b_2`).
        let mut plain: Map<usize, String> = Map::default();
        for g in &groups {
            let (key, name, anonymous) = match g {
                Group::Run { prefix, members } => (members[0], prefix.as_str(), false),
                Group::One(c) => {
                    let n = self.tree.node(*c);
                    let anonymous = n.tensor.is_none()
                        && !self.type_of.contains_key(&n.sig)
                        && !var_names.contains(n.name.as_str());
                    (*c, n.name.as_str(), anonymous)
                }
            };
            let f = field_name(name);
            if !f.explicit && !anonymous {
                plain.insert(key, Self::claim(taken, prefix, &f.ident).0);
            }
        }
        let mut claim = |taken: &mut Set<String>, key: usize, ident: &str| match plain.remove(&key)
        {
            Some(field) => (field, false),
            None => Self::claim(taken, prefix, ident),
        };
        let mut items = Vec::new();
        for g in groups {
            match g {
                Group::Run { prefix: p, members } => {
                    let ty = self.type_of[&self.tree.node(members[0]).sig];
                    let f = field_name(p.as_str());
                    let (field, _) = claim(taken, members[0], &f.ident);
                    // The scopes are `<prefix>_N`, the prefix being the field's name unless
                    // given.
                    items.push(Item::Model {
                        scope: field_differs(&field, &p).then_some(p),
                        field,
                        ty,
                        repeat: Some((members.len(), usize::MAX)),
                    });
                }
                Group::One(c) => {
                    let child = self.tree.node(c);
                    let f = field_name(&child.name);
                    if let Some(t) = child.tensor {
                        let (field, renamed) = claim(taken, c, &f.ident);
                        items.push(Item::Var {
                            field,
                            name: (f.explicit || renamed).then(|| child.name.clone()),
                            tensor: t,
                            trainable: self.ckpt.trainable(&self.ckpt.tensors()[t].name),
                        });
                    } else if var_names.contains(child.name.as_str()) {
                        // A variable and a scope of one name: the scope's variables are
                        // declared with their paths as names.
                        let mut stack = vec![(c, child.name.clone())];
                        while let Some((n, path)) = stack.pop() {
                            let node = self.tree.node(n);
                            for &k in node.children.iter().rev() {
                                let kn = self.tree.node(k);
                                let p = format!("{path}/{}", kn.name);
                                match kn.tensor {
                                    Some(t) => {
                                        let (field, _) = claim(taken, usize::MAX, &snake_ident(&p));
                                        items.push(Item::Var {
                                            field,
                                            name: Some(p),
                                            tensor: t,
                                            trainable: self
                                                .ckpt
                                                .trainable(&self.ckpt.tensors()[t].name),
                                        });
                                    }
                                    None => stack.push((k, p)),
                                }
                            }
                        }
                    } else if let Some(&ty) = self.type_of.get(&child.sig) {
                        let (field, _) = claim(taken, c, &f.ident);
                        let scope = (self.defs[ty].scope != child.name).then(|| child.name.clone());
                        items.push(Item::Model {
                            field,
                            scope,
                            ty,
                            repeat: None,
                        });
                    } else {
                        // An anonymous sub-scope: its fields are prefixed with its identifier,
                        // which must then not end in `_` (`self_` + `_query`).
                        let ident = if f.ident.ends_with('_') {
                            format!("{}scope", f.ident)
                        } else {
                            f.ident.clone()
                        };
                        let (field, renamed) = claim(taken, c, &ident);
                        let inner = if prefix.is_empty() {
                            field.trim_start_matches("r#").to_owned()
                        } else {
                            format!("{prefix}_{}", field.trim_start_matches("r#"))
                        };
                        // The scope's own flattened name is not a field: release it.
                        taken.remove(&inner);
                        let items_inner = self.body(c, &inner, taken);
                        items.push(Item::Scope {
                            field,
                            name: (f.explicit || renamed).then(|| child.name.clone()),
                            items: items_inner,
                        });
                    }
                }
            }
        }
        items
    }

    /// Every dimension of every declared variable, once per declaration.
    fn slots(&self) -> Vec<Slot> {
        let mut slots = Vec::new();
        for def in &self.defs {
            let mut stack: Vec<&Item> = def.items.iter().rev().collect();
            while let Some(item) = stack.pop() {
                match item {
                    Item::Var { tensor, .. } => {
                        let shape = &self.ckpt.tensors()[*tensor].shape;
                        for (axis, &value) in shape.iter().enumerate() {
                            slots.push(Slot {
                                value,
                                axis,
                                rank: shape.len(),
                                node: self.var_node[tensor],
                            });
                        }
                    }
                    Item::Model { .. } => {}
                    Item::Scope { items, .. } => stack.extend(items.iter().rev()),
                }
            }
        }
        slots
    }

    /// Names the arguments: every dimension above 1 (the most frequent `MAX_DIM_ARGS`;
    /// a dimension known only by its position that is a small multiple of `hidden` is
    /// written as one), then every repeat count, which is stored in its item.
    fn name_args(&mut self, fields: &Set<String>) -> (Vec<Arg>, Map<usize, Dim>) {
        let slots = self.slots();
        let mut freq: Map<usize, usize> = Map::default();
        let mut first: Map<usize, usize> = Map::default();
        for (i, s) in slots.iter().enumerate() {
            if s.value > 1 {
                *freq.entry(s.value).or_default() += 1;
                first.entry(s.value).or_insert(i);
            }
        }
        let mut by_freq: Vec<(usize, usize)> = freq.iter().map(|(&v, &n)| (v, n)).collect();
        by_freq.sort_by_key(|&(v, n)| (std::cmp::Reverse(n), first[&v]));
        let hidden = match by_freq.as_slice() {
            [(v, n), rest @ ..] if *n >= 3 && rest.first().is_none_or(|(_, m)| m < n) => Some(*v),
            _ => None,
        };
        by_freq.truncate(MAX_DIM_ARGS);
        let mut chosen: Vec<(usize, String, u8)> = Vec::new();
        // The first occurrences of each value (in declaration order) name it.
        let mut examples: Map<usize, Vec<&Slot>> = Map::default();
        for s in &slots {
            if let Some(list) = examples.get_mut(&s.value) {
                if list.len() < NAMING_EXAMPLES {
                    list.push(s);
                }
            } else if by_freq.iter().any(|&(v, _)| v == s.value) {
                examples.insert(s.value, vec![s]);
            }
        }
        for &(value, _) in &by_freq {
            let mut best: Option<(u8, String)> =
                (Some(value) == hidden).then(|| (0, "hidden".to_owned()));
            for s in examples.get(&value).into_iter().flatten() {
                let cand = self.slot_name(s);
                if best.as_ref().is_none_or(|(p, _)| cand.0 < *p) {
                    best = Some(cand);
                }
            }
            let (prio, name) = best.unwrap_or((9, format!("dim_{value}")));
            chosen.push((value, name, prio));
        }
        // In order of first appearance, `hidden` (priority 0) first.
        chosen.sort_by_key(|(v, _, p)| (*p != 0, first[v]));
        let mut used: Set<String> = Set::default();
        let mut unique = |base: &str| {
            let mut base = snake_ident(base);
            if fields.contains(&base) || base == "reg" {
                base.push_str("_dim");
            }
            let mut name = base.clone();
            let mut k = 2;
            while !used.insert(name.clone()) {
                name = format!("{base}_{k}");
                k += 1;
            }
            name
        };
        let mut args: Vec<Arg> = Vec::new();
        let mut dims = Map::default();
        for (value, name, prio) in &chosen {
            if let (Some(h), true) = (hidden, *prio >= 4) {
                if *value != h && value % h == 0 && (2..=8).contains(&(value / h)) {
                    // `hidden` came first, so it is argument 0.
                    dims.insert(*value, Dim::Times(value / h, 0));
                    continue;
                }
            }
            dims.insert(*value, Dim::Arg(args.len()));
            args.push(Arg {
                name: unique(name),
                value: *value,
                count: false,
            });
        }
        for def in &mut self.defs {
            let mut stack: Vec<&mut Item> = def.items.iter_mut().rev().collect();
            while let Some(item) = stack.pop() {
                match item {
                    Item::Model {
                        repeat: Some((n, arg)),
                        field,
                        scope,
                        ..
                    } => {
                        let prefix = scope.clone().unwrap_or_else(|| field.clone());
                        let stem = snake_ident(prefix.trim_start_matches("r#"));
                        let base = if stem.ends_with('s') {
                            format!("num_{stem}")
                        } else {
                            format!("num_{stem}s")
                        };
                        *arg = args.len();
                        args.push(Arg {
                            name: unique(&base),
                            value: *n,
                            count: true,
                        });
                    }
                    Item::Scope { items, .. } => stack.extend(items.iter_mut().rev()),
                    _ => {}
                }
            }
        }
        (args, dims)
    }

    /// A name for the dimension at `s`, with a priority (lower wins).
    fn slot_name(&self, s: &Slot) -> (u8, String) {
        let var = self.tree.node(s.node).name.to_ascii_lowercase();
        let generic = |n: &str| {
            let base = super::naming::indexed(n).map_or(n, |(p, _)| p);
            matches!(
                base,
                "dense" | "linear" | "fc" | "fully_connected" | "kernel" | "self" | "output"
            )
        };
        // The nearest enclosing scope with a telling name.
        let mut meaningful = None;
        let mut p = self.parent[s.node];
        while p != 0 {
            let n = &self.tree.node(p).name;
            if !generic(&n.to_ascii_lowercase()) {
                meaningful = Some(n.clone());
                break;
            }
            p = self.parent[p];
        }
        let embedding = ["_embeddings", "embeddings", "_embedding", "embedding"]
            .iter()
            .find_map(|suffix| var.strip_suffix(suffix));
        if let (Some(stem), 2) = (embedding, s.rank) {
            return if s.axis == 0 {
                let name = match stem {
                    "" | "word" | "token" => "vocab_size".to_owned(),
                    "position" => "max_positions".to_owned(),
                    "token_type" | "segment" | "type" => "type_vocab_size".to_owned(),
                    other => format!("{other}_vocab_size"),
                };
                (1, name)
            } else {
                (3, "embedding_size".to_owned())
            };
        }
        let kernel = matches!(
            var.as_str(),
            "kernel" | "weights" | "weight" | "w" | "matrix"
        );
        if kernel && s.rank == 2 {
            let scope = meaningful
                .as_deref()
                .map_or("units", |m| m.strip_suffix("_layer").unwrap_or(m));
            let scope = scope.to_ascii_lowercase();
            return match s.axis {
                1 => (2, format!("{scope}_size")),
                _ if scope.starts_with("input") => (4, "input_size".to_owned()),
                _ => (4, format!("{scope}_inputs")),
            };
        }
        let mut stem = var.clone();
        for suffix in ["_weights", "_kernel", "_biases", "_bias", "_w", "_b"] {
            if let Some(s) = stem.strip_suffix(suffix) {
                stem = s.to_owned();
                break;
            }
        }
        let plain = matches!(
            stem.as_str(),
            "kernel" | "bias" | "biases" | "weights" | "w" | "b" | "beta" | "gamma" | "scale"
        );
        if stem.is_empty() || plain {
            stem = meaningful.unwrap_or_else(|| "dim".to_owned());
        }
        // A vector's length names its dimension better than a matrix's axis.
        if s.rank == 1 {
            (5, format!("{stem}_size"))
        } else {
            (6, format!("{stem}_dim{}", s.axis))
        }
    }

    /// Each struct's arguments: the dimensions and counts it uses, and those of the
    /// sub-models it builds, in the global order.
    fn def_args(&mut self, args: &[Arg], dims: &Map<usize, Dim>) {
        let mut total: Vec<BTreeSet<usize>> = Vec::with_capacity(self.defs.len());
        let mut nested: Vec<Vec<usize>> = Vec::with_capacity(self.defs.len());
        for def in &self.defs {
            let mut set = BTreeSet::new();
            let mut subs = Vec::new();
            let mut stack: Vec<&Item> = def.items.iter().collect();
            while let Some(item) = stack.pop() {
                match item {
                    Item::Var { tensor, .. } => {
                        for v in &self.ckpt.tensors()[*tensor].shape {
                            if let Some(Dim::Arg(a) | Dim::Times(_, a)) = dims.get(v) {
                                set.insert(*a);
                            }
                        }
                    }
                    Item::Model { ty, repeat, .. } => {
                        subs.push(*ty);
                        if let Some((_, a)) = repeat {
                            set.insert(*a);
                        }
                    }
                    Item::Scope { items, .. } => stack.extend(items.iter()),
                }
            }
            total.push(set);
            nested.push(subs);
        }
        // A type is declared after its first user: iterate to a fixed point.
        loop {
            let mut changed = false;
            for d in 0..self.defs.len() {
                let extra: Vec<usize> = nested[d]
                    .iter()
                    .flat_map(|&t| total[t].iter().copied().collect::<Vec<_>>())
                    .collect();
                for a in extra {
                    changed |= total[d].insert(a);
                }
            }
            if !changed {
                break;
            }
        }
        for (def, set) in self.defs.iter_mut().zip(total) {
            let mut v: Vec<usize> = set.into_iter().collect();
            v.sort_by_key(|&i| (args[i].count, i));
            def.args = v;
        }
    }
}

fn field_differs(ident: &str, name: &str) -> bool {
    ident.trim_start_matches("r#") != name
}

fn most_common(names: &[String]) -> &str {
    let mut counts: Map<&str, usize> = Map::default();
    for n in names {
        *counts.entry(n).or_default() += 1;
    }
    names
        .iter()
        .max_by_key(|n| {
            (
                counts[n.as_str()],
                std::cmp::Reverse(names.iter().position(|m| m == *n)),
            )
        })
        .map_or("", String::as_str)
}

fn dtype_prefix(dtype: &StoredDType) -> &'static str {
    match dtype.supported() {
        Some(DType::F32) | None => "",
        Some(DType::F16) => "f16",
        Some(DType::F64) => "f64",
        Some(DType::I32) => "i32",
        Some(DType::I64) => "i64",
        Some(DType::Bool) => "bool",
    }
}

/// `text` as `prefix`ed lines of at most `width` characters, broken at spaces.
fn wrap(out: &mut String, prefix: &str, text: &str, width: usize) {
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && prefix.len() + line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "{prefix}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    let _ = writeln!(out, "{}", format!("{prefix}{line}").trim_end());
}

/// `head(a, b)tail` on one line if it fits in 100 columns, else one item per line.
fn call(out: &mut String, indent: &str, head: &str, items: &[String], tail: &str) {
    let one = format!("{indent}{head}({}){tail}", items.join(", "));
    if one.len() <= 100 || items.is_empty() {
        let _ = writeln!(out, "{one}");
        return;
    }
    let _ = writeln!(out, "{indent}{head}(");
    for (i, item) in items.iter().enumerate() {
        let comma = if i + 1 < items.len() { "," } else { "" };
        let _ = writeln!(out, "{indent}    {item}{comma}");
    }
    let _ = writeln!(out, "{indent}){tail}");
}

fn render(
    cx: &Ctx<'_>,
    args: &[Arg],
    dims: &Map<usize, Dim>,
    placement: &Placement,
    opts: &ImportOptions,
    state: &[Option<super::TrainingState>],
    unsupported: &[usize],
) -> String {
    const WIDTH: usize = 100;
    let tensors = cx.ckpt.tensors();
    let location = comment_safe(cx.ckpt.location());
    let mut out = String::new();
    let command = opts
        .command
        .clone()
        .unwrap_or_else(|| format!("scope import {location} --name {}", opts.name));
    let declared = cx.tree.node(0).vars;
    wrap(
        &mut out,
        "// ",
        &format!("Generated by `{}`.", comment_safe(&command)),
        WIDTH,
    );
    out.push_str("//\n");
    wrap(
        &mut out,
        "// ",
        &format!(
            "The {declared} model variables of `{location}` ({}): names, shapes and dtypes. The \
             values are not here: every variable starts as `zeros`, and the values come from the \
             checkpoint (restore them with `scope::checkpoint::Restore`).",
            cx.ckpt.format().describe()
        ),
        WIDTH,
    );
    // Training state, summed by kind, slots first.
    let mut kinds: Vec<(String, bool, usize)> = Vec::new();
    for s in state.iter().flatten() {
        match kinds.iter_mut().find(|(k, _, _)| k == s.kind()) {
            Some((_, _, n)) => *n += 1,
            None => kinds.push((
                s.kind().to_owned(),
                matches!(s, super::TrainingState::Slot { .. }),
                1,
            )),
        }
    }
    kinds.sort_by_key(|(_, slot, _)| !slot);
    let state_total: usize = kinds.iter().map(|(_, _, n)| n).sum();
    if state_total > 0 {
        let list: Vec<String> = kinds
            .iter()
            .map(|(k, slot, n)| match (slot, n) {
                (true, _) => format!("`{}` slots of {n} variables", comment_safe(k)),
                (false, 1) => format!("`{}`", comment_safe(k)),
                (false, _) => format!("`{}` x{n}", comment_safe(k)),
            })
            .collect();
        out.push_str("//\n");
        wrap(
            &mut out,
            "// ",
            &format!(
                "Left out, training state ({state_total} tensors): {}.",
                list.join(", ")
            ),
            WIDTH,
        );
    }
    if !unsupported.is_empty() {
        out.push_str("//\n");
        let _ = writeln!(
            out,
            "// Left out, dtypes scope cannot hold ({} tensors):",
            unsupported.len()
        );
        for &i in unsupported.iter().take(50) {
            let _ = writeln!(
                out,
                "//   {} ({})",
                comment_safe(&tensors[i].name),
                comment_safe(&tensors[i].dtype.to_string())
            );
        }
        if unsupported.len() > 50 {
            let _ = writeln!(out, "//   ... and {} more", unsupported.len() - 50);
        }
    }
    if let Some(s) = &opts.scope {
        let outside = tensors.len() - state_total - unsupported.len() - declared;
        if outside > 0 {
            out.push_str("//\n");
            let _ = writeln!(
                out,
                "// Left out, outside scope `{}`: {outside} model variables.",
                comment_safe(s)
            );
        }
    }
    out.push('\n');
    for a in args {
        let what = if a.count { "count" } else { "dimension" };
        let _ = writeln!(
            out,
            "/// The checkpoint's `{}` ({what}).\npub const {}: usize = {};",
            a.name,
            const_ident(&a.name),
            a.value
        );
    }
    if !args.is_empty() {
        out.push('\n');
    }
    out.push_str("scope::model! {\n");
    for (d, def) in cx.defs.iter().enumerate() {
        if d > 0 {
            out.push('\n');
        }
        if d == 0 {
            let place = match placement {
                Placement::Scoped(s) => format!("in scope `{}`", comment_safe(s)),
                Placement::Root => "at the checkpoint's root".to_owned(),
            };
            wrap(
                &mut out,
                "    /// ",
                &format!("The model of `{location}`: {declared} variables {place}."),
                WIDTH,
            );
            if matches!(placement, Placement::Root) {
                out.push_str("    ///\n");
                wrap(
                    &mut out,
                    "    /// ",
                    &format!(
                        "Build it where the checkpoint's root is, with `build` or \
                         `Model::build_here` (`{}::new` would open scope `{}` around it).",
                        def.name, def.scope
                    ),
                    WIDTH,
                );
            }
        } else {
            let uses: Vec<String> = def
                .uses
                .iter()
                .map(|u| format!("`{}`", comment_safe(u)))
                .collect();
            let more = if def.uses_count > def.uses.len() {
                format!(" and {} more", def.uses_count - def.uses.len())
            } else {
                String::new()
            };
            wrap(
                &mut out,
                "    /// ",
                &format!("Built at {}{more}.", uses.join(", ")),
                WIDTH,
            );
        }
        let mut params = vec![string_lit(&def.scope)];
        params.extend(def.args.iter().map(|&a| format!("{}: usize", args[a].name)));
        call(
            &mut out,
            "    ",
            &format!("pub struct {}", def.name),
            &params,
            " {",
        );
        render_items(cx, &def.items, 2, args, dims, &mut out);
        out.push_str("    }\n");
    }
    out.push_str("}\n\n");
    let top = &cx.defs[0];
    let consts: Vec<String> = top
        .args
        .iter()
        .map(|&a| const_ident(&args[a].name))
        .collect();
    let _ = writeln!(
        out,
        "/// Builds `{0}` with the checkpoint's sizes in `reg`, every variable zeros: restore the\n\
         /// values from the checkpoint.\n\
         pub fn build(reg: &scope::Registry) -> scope::Result<{0}> {{",
        top.name
    );
    match placement {
        Placement::Scoped(_) => {
            let mut all = vec!["reg".to_owned()];
            all.extend(consts);
            call(&mut out, "    ", &format!("{}::new", top.name), &all, "");
        }
        Placement::Root => {
            let tuple = match consts.len() {
                1 => format!("({},)", consts[0]),
                _ => format!("({})", consts.join(", ")),
            };
            let head = format!("<{} as scope::Model>::build_here", top.name);
            if tuple.len() + head.len() + 13 <= WIDTH {
                let _ = writeln!(out, "    {head}(reg, {tuple})");
            } else {
                let _ = writeln!(out, "    {head}(\n        reg,\n        (");
                for c in &consts {
                    let _ = writeln!(out, "            {c},");
                }
                out.push_str("        ),\n    )\n");
            }
        }
    }
    out.push_str("}\n");
    out
}

fn dim_text(value: usize, dims: &Map<usize, Dim>, args: &[Arg]) -> String {
    match dims.get(&value) {
        Some(Dim::Arg(a)) => args[*a].name.clone(),
        Some(Dim::Times(k, h)) => format!("{k} * {}", args[*h].name),
        None => value.to_string(),
    }
}

fn render_items(
    cx: &Ctx<'_>,
    items: &[Item],
    depth: usize,
    args: &[Arg],
    dims: &Map<usize, Dim>,
    out: &mut String,
) {
    let pad = "    ".repeat(depth);
    for item in items {
        match item {
            Item::Var {
                field,
                name,
                tensor,
                trainable,
            } => {
                let t = &cx.ckpt.tensors()[*tensor];
                let mut keys = Vec::new();
                if let Some(n) = name {
                    keys.push(format!("name = {}", string_lit(n)));
                }
                if *trainable == Some(false) {
                    keys.push("trainable = false".to_owned());
                }
                if !keys.is_empty() {
                    let _ = writeln!(out, "{pad}#[var({})]", keys.join(", "));
                }
                let shape: Vec<String> = t.shape.iter().map(|&v| dim_text(v, dims, args)).collect();
                let _ = writeln!(
                    out,
                    "{pad}{field}: {}[{}] = zeros,",
                    dtype_prefix(&t.dtype),
                    shape.join(", ")
                );
            }
            Item::Model {
                field,
                scope,
                ty,
                repeat,
            } => {
                let mut keys = Vec::new();
                if let Some((_, arg)) = repeat {
                    keys.push(format!("repeat = {}", args[*arg].name));
                }
                if let Some(s) = scope {
                    keys.push(format!("scope = {}", string_lit(s)));
                }
                if !keys.is_empty() {
                    let _ = writeln!(out, "{pad}#[model({})]", keys.join(", "));
                }
                let def = &cx.defs[*ty];
                let call: Vec<&str> = def.args.iter().map(|&a| args[a].name.as_str()).collect();
                let call = if call.is_empty() {
                    String::new()
                } else {
                    format!("({})", call.join(", "))
                };
                let _ = writeln!(out, "{pad}{field}: model {}{call},", def.name);
            }
            Item::Scope { field, name, items } => {
                if let Some(n) = name {
                    let _ = writeln!(out, "{pad}#[scope(name = {})]", string_lit(n));
                }
                let _ = writeln!(out, "{pad}{field} {{");
                render_items(cx, items, depth + 1, args, dims, out);
                let _ = writeln!(out, "{pad}}}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scope_runtime::checkpoint::SafetensorsCheckpoint;
    use std::path::Path;

    /// A safetensors file of f32 tensors, written by hand so that any name can be stored.
    pub(crate) fn safetensors(tensors: &[(String, Vec<usize>)]) -> Checkpoint {
        let mut header = String::from("{");
        let mut offset = 0;
        for (i, (name, shape)) in tensors.iter().enumerate() {
            let n: usize = shape.iter().product();
            if i > 0 {
                header.push(',');
            }
            let _ = write!(
                header,
                "{}:{{\"dtype\":\"F32\",\"shape\":{shape:?},\"data_offsets\":[{offset},{}]}}",
                serde_json::to_string(name).unwrap(),
                offset + 4 * n
            );
            offset += 4 * n;
        }
        header.push('}');
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.resize(bytes.len() + offset, 0);
        Checkpoint::Safetensors(SafetensorsCheckpoint::from_bytes(bytes).unwrap())
    }

    fn opts(name: &str) -> ImportOptions {
        ImportOptions {
            name: name.to_owned(),
            scope: None,
            command: None,
        }
    }

    fn named(list: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
        list.iter()
            .map(|(n, s)| ((*n).to_owned(), s.to_vec()))
            .collect()
    }

    #[test]
    fn seed_rnn() {
        let ckpt = Checkpoint::open(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed_rnn/model.ckpt"),
        )
        .unwrap();
        let src = import(&ckpt, &opts("Rnn")).unwrap();
        assert!(
            src.contains("pub struct Rnn(\n        \"rnn\",\n        hidden: usize,"),
            "{src}"
        );
        assert!(
            src.contains("kernel: [2 * hidden, basic_lstm_cell_size] = zeros,"),
            "{src}"
        );
        assert!(src.contains("Rnn::new(reg, HIDDEN"), "{src}");
        assert!(src.contains("Adam` slots of 6 variables"), "{src}");
        // input_layer, then cell, then output_layer
        let (i, c, o) = (
            src.find("input_layer {").unwrap(),
            src.find("cell {").unwrap(),
            src.find("output_layer {").unwrap(),
        );
        assert!(i < c && c < o, "{src}");
    }

    #[test]
    fn bert_structure() {
        let ckpt = Checkpoint::open(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bert/classifier/model.ckpt"),
        )
        .unwrap();
        let src = import(&ckpt, &opts("Bert")).unwrap();
        assert!(src.contains("#[model(repeat = num_layers)]\n                layer: model Layer(hidden, intermediate_size),"), "{src}");
        assert_eq!(src.matches("pub struct Layer(").count(), 1, "{src}");
        assert!(
            src.contains("pub struct Dense(\"dense\", hidden: usize) {"),
            "{src}"
        );
        assert!(
            src.contains("pub struct LayerNorm(\"LayerNorm\", hidden: usize) {"),
            "{src}"
        );
        assert!(
            src.contains("#[scope(name = \"self\")]\n            self_scope {"),
            "{src}"
        );
        assert!(
            src.contains("output_weights: [output_size, hidden] = zeros,"),
            "{src}"
        );
        assert!(src.contains("pub const NUM_LAYERS: usize = 2;"), "{src}");
        assert!(
            src.contains("build_here"),
            "root variables: built at the root\n{src}"
        );

        let scoped = ImportOptions {
            scope: Some("bert".to_owned()),
            ..opts("Bert")
        };
        let src = import(&ckpt, &scoped).unwrap();
        assert!(src.contains("pub struct Bert(\n        \"bert\","), "{src}");
        assert!(
            src.contains("outside scope `bert`: 2 model variables"),
            "{src}"
        );
        assert!(!src.contains("output_weights"), "{src}");
    }

    #[test]
    fn names_no_identifier_carries() {
        let ckpt = safetensors(&named(&[
            ("m/self/w", &[2]),
            ("m/LayerNorm/gamma", &[2]),
            ("m/a.b", &[1]),
            ("m/a_b", &[1]),
            ("m/a-b", &[1]),
            ("m/type", &[1]),
            ("m/0", &[1]),
            ("m/x", &[3]),
            ("m/x/y", &[3]),
            ("m/super", &[1]),
        ]));
        let src = import(&ckpt, &opts("M")).unwrap();
        for line in [
            "#[scope(name = \"self\")]\n        self_scope {",
            "#[scope(name = \"LayerNorm\")]\n        layer_norm {",
            "r#type: [1] = zeros,",
            "#[var(name = \"0\")]\n        v0: [1] = zeros,",
            "#[var(name = \"super\")]\n        super_: [1] = zeros,",
            "x: [x_size] = zeros,\n        #[var(name = \"x/y\")]\n        x_y: [x_size] = zeros,",
            "a_b: [1] = zeros,",
            "#[var(name = \"a-b\")]\n        a_b_2: [1] = zeros,",
            "#[var(name = \"a.b\")]\n        a_b_3: [1] = zeros,",
        ] {
            assert!(src.contains(line), "`{line}` missing in\n{src}");
        }
    }

    #[test]
    fn refuses_names_tf_refuses() {
        for (name, what) in [
            ("m/a b", "characters TF's scope and variable names refuse"),
            ("m//b", "empty scope component"),
            ("_root", "at the root a name must start"),
        ] {
            let ckpt = safetensors(&named(&[(name, &[1]), ("m/ok", &[1])]));
            let err = import(&ckpt, &opts("M")).unwrap_err().to_string();
            assert!(err.contains(what), "{name}: {err}");
            assert!(err.starts_with("cannot declare"), "{err}");
        }
        let ckpt = safetensors(&named(&[("m/w", &[1])]));
        assert!(import(&ckpt, &opts("not a type")).is_err());
        let only = ImportOptions {
            scope: Some("other".to_owned()),
            ..opts("M")
        };
        let err = import(&ckpt, &only).unwrap_err().to_string();
        assert!(
            err.contains("no model variables under scope `other`"),
            "{err}"
        );
    }

    #[test]
    fn shared_types_and_single_layers() {
        let ckpt = safetensors(&named(&[
            ("net/dense/kernel", &[4, 8]),
            ("net/dense/bias", &[8]),
            ("net/dense_1/kernel", &[4, 8]),
            ("net/dense_1/bias", &[8]),
            ("net/block_0/w", &[8]),
            ("net/block_0/v", &[8]),
        ]));
        let src = import(&ckpt, &opts("Net")).unwrap();
        assert!(src.contains("dense: model Dense("), "{src}");
        assert!(
            src.contains("#[model(scope = \"dense_1\")]\n        dense_1: model Dense("),
            "{src}"
        );
        assert!(src.contains("#[model(repeat = num_blocks)]"), "{src}");
        assert!(src.contains("pub const NUM_BLOCKS: usize = 1;"), "{src}");
    }

    #[test]
    fn a_hundred_thousand_variables() {
        // 1,000 scopes of 100 variables with distinct shapes: nothing folds.
        let list: Vec<(String, Vec<usize>)> = (0..100_000)
            .map(|i| {
                let shape = if i % 100 == 0 {
                    vec![1 + i / 100]
                } else {
                    vec![1 + i % 5, 2]
                };
                (format!("big/s{}/v{}", i / 100, i % 100), shape)
            })
            .collect();
        let src = import(&safetensors(&list), &opts("Big")).unwrap();
        assert_eq!(src.matches("= zeros,").count(), 100_000);
        // 1,000 identical blocks: one repeated type.
        let list: Vec<(String, Vec<usize>)> = (0..100_000)
            .map(|i| (format!("big/block_{}/v{}", i / 100, i % 100), vec![2]))
            .collect();
        let src = import(&safetensors(&list), &opts("Big")).unwrap();
        assert!(src.contains("pub const NUM_BLOCKS: usize = 1000;"), "{src}");
        assert_eq!(src.matches("= zeros,").count(), 100);
    }
}
