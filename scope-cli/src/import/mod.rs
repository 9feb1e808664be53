//! `scope import`: the `model!` source that declares a checkpoint's model variables.
//!
//! The structure is found in the names: a run of identical indexed sub-scopes
//! (`layer_0 .. layer_N`) becomes one repeated sub-model with a count argument; a sub-scope
//! whose content (names, shapes, dtypes) appears several times becomes one sub-model type
//! used several times; every dimension becomes a named constructor argument, named after
//! where it occurs (`hidden`, `vocab_size`, `intermediate_size`, ...), with the
//! checkpoint's value in a constant. TF names that are no Rust identifier keep their name
//! through the DSL's explicit names.

use scope::checkpoint::{Checkpoint, CheckpointSource, TensorInfo};
use scope::{DEFAULT_MAX_ELEMENTS, DEFAULT_MAX_NAME_LEN};

use super::naming::{comment_safe, is_tf_component, is_tf_root, snake_ident};
use super::split::{splits, Split};
use super::tree::{training_state, Tree, VarMeta};
use super::{shorten, CliError, Map, Result, Set};

mod infer;
mod render;
#[cfg(test)]
mod tests;

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
    /// How each tensor is sliced, if it is a partitioned variable.
    splits: Vec<Option<Split>>,
    parent: Vec<usize>,
    /// The node of each declared tensor.
    var_node: Map<usize, usize>,
    /// Type (index into `defs`) of a signature, for sub-scopes declared as sub-models.
    type_of: Map<u32, usize>,
    defs: Vec<Def>,
}

/// Generates the Rust source declaring the model variables of `ckpt`.
pub fn import(ckpt: &Checkpoint, opts: &ImportOptions) -> Result<String> {
    // UpperCamelCase, as rustc's lint wants a type name: which also keeps out every keyword
    // (`self`, `fn`), the crate's own name (`scope`, which the generated source names), and
    // `Self`.
    let type_name_ok = opts.name.starts_with(|c: char| c.is_ascii_uppercase())
        && opts.name.chars().all(|c| c.is_ascii_alphanumeric())
        && opts.name != "Self";
    if !type_name_ok {
        return Err(CliError::Undeclarable {
            name: comment_safe(&shorten(&opts.name)),
            reason: "--name must be a Rust type name in UpperCamelCase such as `Bert` (ASCII \
                     letters and digits, starting with a capital letter; not `Self`)"
                .to_owned(),
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
            None => registry_refuses(&tensors[i]),
        };
        if let Some(reason) = reason {
            return Err(CliError::Undeclarable {
                name: comment_safe(&shorten(&tensors[i].name)),
                reason,
            });
        }
    }
    let splits = splits(ckpt);
    let meta = |i: usize| VarMeta {
        trainable: ckpt.trainable(&tensors[i].name),
        split: splits[i].clone(),
    };
    let tree = Tree::build(tensors, &model, &meta)?;
    let mut parent = vec![0; tree.nodes.len()];
    for (id, node) in tree.nodes.iter().enumerate() {
        for &c in &node.children {
            parent[c] = id;
        }
    }
    refuse_case_twins(&tree, &parent)?;
    let var_node = tree
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(id, n)| n.tensor.map(|t| (t, id)))
        .collect();
    let mut cx = Ctx {
        tree: &tree,
        ckpt,
        splits,
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
    let source = render::render(&cx, &args, &dims, &placement, opts, &state, &unsupported);
    Ok(source)
}

/// Why the generated `build` would be refused by a default registry, if it would: a name
/// over [`DEFAULT_MAX_NAME_LEN`] bytes, a shape over [`DEFAULT_MAX_ELEMENTS`] elements.
fn registry_refuses(t: &TensorInfo) -> Option<String> {
    if t.name.len() > DEFAULT_MAX_NAME_LEN {
        return Some(format!(
            "the name is {} bytes long, over the {DEFAULT_MAX_NAME_LEN} bytes a registry takes \
             by default (`scope::DEFAULT_MAX_NAME_LEN`)",
            t.name.len()
        ));
    }
    let elements = t.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if elements.is_none_or(|n| n > DEFAULT_MAX_ELEMENTS) {
        return Some(format!(
            "its shape {:?} holds more than the {DEFAULT_MAX_ELEMENTS} elements a registry \
             takes by default (`scope::DEFAULT_MAX_ELEMENTS`)",
            t.shape
        ));
    }
    None
}

/// Refuses two names in one scope that differ only by case (`Dense` and `dense`, `Self` and
/// `self`): TF compares names ignoring case when it makes them unique, so a model creating
/// the second gets `dense_1`; no declaration creates both, and the DSL refuses to try.
fn refuse_case_twins(tree: &Tree, parent: &[usize]) -> Result<()> {
    let path = |mut id: usize| {
        let mut parts = Vec::new();
        while id != 0 {
            parts.push(tree.node(id).name.as_str());
            id = parent[id];
        }
        parts.reverse();
        parts.join("/")
    };
    for node in &tree.nodes {
        let mut seen: Map<String, usize> = Map::default();
        for &c in &node.children {
            let name = &tree.node(c).name;
            match seen.get(&name.to_lowercase()) {
                Some(&first) if tree.node(first).name != *name => {
                    return Err(CliError::Undeclarable {
                        name: comment_safe(&shorten(&path(c))),
                        reason: format!(
                            "`{}` differs from it only by case, and TF compares names ignoring \
                             case (a model creating both would get `{}_1`), so no declaration \
                             creates both; rename one (`scope convert` through a mapping), or \
                             import the rest with --scope",
                            comment_safe(&shorten(&path(first))),
                            comment_safe(&shorten(&name.to_lowercase())),
                        ),
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert(name.to_lowercase(), c);
                }
            }
        }
    }
    Ok(())
}
