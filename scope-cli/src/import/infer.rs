//! What the checkpoint's names say: which sub-scopes are one type used several times or
//! repeated, which field declares each name, and which dimensions become named arguments.

use std::collections::BTreeSet;

use scope::checkpoint::CheckpointSource;

use super::{Arg, Ctx, Def, Dim, Item, Slot, MAX_DIM_ARGS, MIN_RUN, NAMING_EXAMPLES};
use crate::naming::{camel_ident, field_name, indexed, is_tf_root, snake_ident};
use crate::tree::Group;
use crate::{Map, Set};

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
    pub(super) fn find_types(&mut self, top: &str, top_scope: String) {
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

    /// Claims a field name in a struct: `ident`, or `ident_2`, ... if it collides, once
    /// flattened, with a field of the struct (`taken`) or, as written, with another entry of
    /// the same body (`siblings`: two TF names can give one identifier, `Dense` and `dense`,
    /// `Self` and `self`). Returns the identifier and whether it was renamed.
    fn claim(
        taken: &mut Set<String>,
        siblings: &mut Set<String>,
        prefix: &str,
        ident: &str,
    ) -> (String, bool) {
        let bare = ident.trim_start_matches("r#");
        let flat = |id: &str| {
            if prefix.is_empty() {
                id.to_owned()
            } else {
                format!("{prefix}_{id}")
            }
        };
        let mut free = |id: &str| {
            if siblings.contains(id) || taken.contains(&flat(id)) {
                return false;
            }
            siblings.insert(id.to_owned());
            taken.insert(flat(id));
            true
        };
        if free(bare) {
            return (ident.to_owned(), false);
        }
        // `self_` + `_2` would be `self__2`, which is no snake case.
        let sep = if bare.ends_with('_') { "" } else { "_" };
        let mut k = 2;
        loop {
            let candidate = format!("{bare}{sep}{k}");
            if free(&candidate) {
                return (candidate, true);
            }
            k += 1;
        }
    }

    /// The declarations of scope `id`'s children.
    pub(super) fn body(&self, id: usize, prefix: &str, taken: &mut Set<String>) -> Vec<Item> {
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
        let mut plain: Map<usize, (String, bool)> = Map::default();
        let mut siblings: Set<String> = Set::default();
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
                plain.insert(key, Self::claim(taken, &mut siblings, prefix, &f.ident));
            }
        }
        // A renamed field keeps its TF name through an explicit name.
        let mut claim = |taken: &mut Set<String>, key: usize, ident: &str| match plain.remove(&key)
        {
            Some(claimed) => claimed,
            None => Self::claim(taken, &mut siblings, prefix, ident),
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
    pub(super) fn name_args(&mut self, fields: &Set<String>) -> (Vec<Arg>, Map<usize, Dim>) {
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
            let base = indexed(n).map_or(n, |(p, _)| p);
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
    pub(super) fn def_args(&mut self, args: &[Arg], dims: &Map<usize, Dim>) {
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
