//! The IR both macros are parsed into, and that checking and expansion read.
//!
//! Nodes own clones of the syn nodes they came from (cheap at this size) and keep the spans
//! that errors point at.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Attribute, DeriveInput, Ident, LitBool, LitStr, Type, Visibility};

/// One model: a struct plus the variables, sub-scopes and nested models in its scope.
pub(crate) struct ModelDef {
    /// Outer attributes passed through to the struct (docs, derives).
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    /// The variable scope the model opens; `None` only when it could not be parsed (an error
    /// was recorded).
    pub(crate) scope: Option<LitStr>,
    /// Construction arguments, in order.
    pub(crate) args: Vec<Arg>,
    /// The model scope's `custom_getter` and `regularizer`.
    pub(crate) defaults: ScopeDefaults,
    /// Arguments the model keeps as fields (`#[keep] cfg`), in declaration order.
    pub(crate) kept: Vec<Kept>,
    /// What is declared in the model's scope, in order.
    pub(crate) items: Vec<Item>,
    /// Where the model came from, which decides how the struct is emitted.
    pub(crate) source: Source,
    /// `crate = path`: the path of the `scope` crate when it is renamed (`crate = tf` for
    /// `tf = { package = "scope" }`); `None` for `::scope`.
    pub(crate) krate: Option<syn::Path>,
}

/// What the header of either macro declares: `(crate = path,)? "scope" (, arg: Type)*`,
/// and the scope's defaults (`custom_getter = .., regularizer = ..`).
pub(crate) struct Header {
    pub(crate) krate: Option<syn::Path>,
    pub(crate) scope: Option<LitStr>,
    pub(crate) args: Vec<Arg>,
    pub(crate) defaults: ScopeDefaults,
}

/// What a model's or sub-scope's variable scope is opened with: TF's
/// `variable_scope(.., custom_getter=.., regularizer=..)`.
#[derive(Default)]
pub(crate) struct ScopeDefaults {
    /// `custom_getter = expr`: an expression of type `CustomGetter` (or a reference to one).
    pub(crate) custom_getter: Option<KeyExpr>,
    /// `regularizer = l2(0.1)`: the default regularizer of the variables created inside.
    pub(crate) regularizer: Option<CallDecl>,
}

impl ScopeDefaults {
    pub(crate) fn is_empty(&self) -> bool {
        self.custom_getter.is_none() && self.regularizer.is_none()
    }
}

/// A value that names one of the runtime's constructors (`l2(0.1)`, `non_neg`), or an
/// expression of the runtime's type, passed through.
pub(crate) struct CallDecl {
    pub(crate) key: Ident,
    /// The value as written (for the manifest and docs).
    pub(crate) tokens: TokenStream,
    /// `Some((constructor, arguments))` for a named constructor; `None` for an expression.
    pub(crate) known: Option<(Ident, Vec<TokenStream>)>,
}

/// `collections = [..]`: each a string literal or one of TF's `GraphKeys` names.
pub(crate) struct CollectionsDecl {
    pub(crate) key: Ident,
    pub(crate) items: Vec<CollectionName>,
}

pub(crate) enum CollectionName {
    /// `"mine"`.
    Lit(LitStr),
    /// `MODEL_VARIABLES`: `scope::keys::MODEL_VARIABLES`.
    Key(Ident),
}

/// How the struct is emitted.
pub(crate) enum Source {
    /// `#[variable_scope]`: the user's struct, re-emitted with helper attributes stripped.
    Attribute(Box<DeriveInput>),
    /// `model!`: the struct is generated from the items.
    Dsl,
}

/// A construction argument `name: Type`.
pub(crate) struct Arg {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
}

/// `#[keep] cfg`: the constructor argument `cfg`, moved into a field of the same name once
/// every part is built, so that the model holds what it was built with.
pub(crate) struct Kept {
    /// Attributes carried onto the generated field (docs; `model!` only).
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// The field, named as the argument it keeps.
    pub(crate) ident: Ident,
}

/// One thing declared in a scope.
pub(crate) enum Item {
    Var(VarDecl),
    Model(ModelField),
    Scope(SubScope),
}

/// A variable: one `get_variable` call and one struct field.
pub(crate) struct VarDecl {
    /// Attributes carried onto the generated field (docs).
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// The identifier as declared (`weights`); the default variable name.
    pub(crate) ident: Ident,
    /// The struct field: `ident`, or prefixed with anonymous sub-scopes in `model!`
    /// (`input_layer_weights`).
    pub(crate) field: Ident,
    /// `name = ".."`: the variable name, if it differs from the identifier.
    pub(crate) name: Option<LitStr>,
    pub(crate) shape: Option<ShapeDecl>,
    pub(crate) init: Option<InitDecl>,
    pub(crate) dtype: Option<DTypeDecl>,
    pub(crate) trainable: Option<LitBool>,
    /// `when = flag`: created only when `flag` is true; the field is an `Option<Variable>`.
    pub(crate) when: Option<KeyExpr>,
    /// `tied = expr`: another model's variable, checked and held; nothing is created.
    pub(crate) tied: Option<KeyExpr>,
    /// `partitioner = fixed_size(4, 0)`: created in parts; the field is a
    /// `PartitionedVariable`.
    pub(crate) partitioner: Option<PartitionerDecl>,
    /// `regularizer = l2(0.1)`: the variable's regularizer (else the scope's).
    pub(crate) regularizer: Option<CallDecl>,
    /// `constraint = non_neg`: applied by the optimizers after each update.
    pub(crate) constraint: Option<CallDecl>,
    /// `collections = [MODEL_VARIABLES, "mine"]`: the collections a new variable joins
    /// instead of `GLOBAL_VARIABLES`.
    pub(crate) collections: Option<CollectionsDecl>,
    /// Whether parsing it already reported an error, so that the checker does not pile a
    /// consequence (such as "no shape" after a misspelt `shape`) on top.
    pub(crate) incomplete: bool,
}

impl VarDecl {
    /// The variable's name in its scope and the span of the tokens that set it.
    pub(crate) fn var_name(&self) -> (String, Span) {
        match &self.name {
            Some(lit) => (lit.value(), lit.span()),
            None => (unraw(&self.ident), self.ident.span()),
        }
    }
}

/// A nested model: a field whose type implements `Model`, built in its own scope.
pub(crate) struct ModelField {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    pub(crate) field: Ident,
    pub(crate) ty: Type,
    /// `scope = ".."`: the scope to build it in instead of its type's default.
    pub(crate) scope: Option<LitStr>,
    /// The arguments passed to its constructor, as written.
    pub(crate) args: Vec<TokenStream>,
    /// `args = expr`: the whole `Model::Args` value (a config struct), passed as is instead of
    /// a tuple of `args`.
    pub(crate) whole_args: Option<TokenStream>,
    /// Where the arguments were given (their parentheses), or the field, for type errors.
    pub(crate) args_span: Span,
    /// `repeat = count`: built `count` times, in the scopes of [`ModelField::repeat_pattern`]
    /// (`layer_0 ..`); the field is a `Vec`.
    pub(crate) repeat: Option<KeyExpr>,
    /// `when = flag`: built only when `flag` is true; the field is an `Option`.
    pub(crate) when: Option<KeyExpr>,
    /// `default_name` or `default_name = ".."`: the scope comes from the enclosing scope's
    /// `default_name` counters.
    pub(crate) default_name: Option<DefaultName>,
}

impl ModelField {
    /// A nested model `ident: ty` with nothing set yet.
    pub(crate) fn new(ident: Ident, field: Ident, ty: Type) -> ModelField {
        ModelField {
            attrs: Vec::new(),
            vis: Visibility::Inherited,
            args_span: ident.span(),
            ident,
            field,
            ty,
            scope: None,
            args: Vec::new(),
            whole_args: None,
            repeat: None,
            when: None,
            default_name: None,
        }
    }

    /// The scope names of a repeated model's elements, and the span of the tokens that set
    /// them: the `scope` override (`"h{i}"`, or a prefix `"cell"` for `cell_{i}`), or the
    /// field's name as a prefix (`layer` for `layer_{i}`). `Err` says what is wrong with the
    /// override.
    pub(crate) fn repeat_pattern(&self) -> (Result<RepeatPattern, String>, Span) {
        match &self.scope {
            Some(lit) => (RepeatPattern::parse(&lit.value()), lit.span()),
            None => (
                Ok(RepeatPattern::prefix(&unraw(&self.ident))),
                self.ident.span(),
            ),
        }
    }
}

/// The scope names of a repeated model's elements: `before{i}after`, where `{i}` is the index
/// in decimal (`h{i}`: `h0`, `h1`, ...; `layer_{i}`: `layer_0`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RepeatPattern {
    pub(crate) before: String,
    pub(crate) after: String,
}

impl RepeatPattern {
    /// The index placeholder.
    pub(crate) const INDEX: &'static str = "{i}";

    /// `prefix_{i}`: the names a prefix without placeholder stands for.
    pub(crate) fn prefix(prefix: &str) -> RepeatPattern {
        RepeatPattern {
            before: format!("{prefix}_"),
            after: String::new(),
        }
    }

    /// Reads a `scope = ".."` of a repeated model: a pattern holding `{i}` exactly once, or a
    /// prefix holding no braces at all (`"cell"` is `cell_{i}`, as TF's `MultiRNNCell`
    /// names its cells). `Err` is the message for anything else.
    pub(crate) fn parse(text: &str) -> Result<RepeatPattern, String> {
        let example = "e.g. `scope = \"h{i}\"` for `h0`, `h1`, ... (GPT-2's blocks)";
        if !text.contains(['{', '}']) {
            return Ok(RepeatPattern::prefix(text));
        }
        let count = text.matches(Self::INDEX).count();
        if text.replace(Self::INDEX, "").contains(['{', '}']) {
            return Err(format!(
                "`{text}` is not a scope pattern: the only placeholder is `{{i}}`, the element's \
                 index; {example}"
            ));
        }
        if count != 1 {
            return Err(format!(
                "the scope pattern `{text}` holds the index `{{i}}` {count} times: a repeated \
                 model's scope pattern holds it exactly once, {example}"
            ));
        }
        let (before, after) = text.split_once(Self::INDEX).expect("counted once");
        Ok(RepeatPattern {
            before: before.to_owned(),
            after: after.to_owned(),
        })
    }

    /// `h{i}`.
    pub(crate) fn text(&self) -> String {
        format!("{}{}{}", self.before, Self::INDEX, self.after)
    }

    /// Element `index`'s scope name.
    pub(crate) fn name(&self, index: usize) -> String {
        format!("{}{index}{}", self.before, self.after)
    }

    /// Whether element `i` of the pattern is `name` for some `i`, ignoring case as TF's
    /// uniquifier does. Indices are written as Rust writes a `usize`: `0`, or digits without a
    /// leading zero.
    pub(crate) fn matches(&self, name: &str) -> bool {
        let (name, before, after) = (
            name.to_lowercase(),
            self.before.to_lowercase(),
            self.after.to_lowercase(),
        );
        let Some(digits) = name
            .strip_prefix(&before)
            .and_then(|rest| rest.strip_suffix(&after))
        else {
            return false;
        };
        let canonical = digits == "0" || !digits.starts_with('0');
        !digits.is_empty() && canonical && digits.bytes().all(|b| b.is_ascii_digit())
    }

    /// A name both patterns give (one of the first thousand elements of either), if any.
    pub(crate) fn overlap(&self, other: &RepeatPattern) -> Option<String> {
        (0..1000).find_map(|i| {
            let (mine, theirs) = (self.name(i), other.name(i));
            if other.matches(&mine) {
                Some(mine)
            } else if self.matches(&theirs) {
                Some(theirs)
            } else {
                None
            }
        })
    }
}

/// `key = expression`, keeping the key for error spans.
pub(crate) struct KeyExpr {
    pub(crate) key: Ident,
    pub(crate) expr: TokenStream,
}

/// `default_name` (the type's `Model::SCOPE`) or `default_name = "base"`.
pub(crate) struct DefaultName {
    pub(crate) key: Ident,
    pub(crate) base: Option<LitStr>,
}

/// The struct field of every variable and nested model in `items`, sub-scopes included, in
/// declaration order.
pub(crate) fn fields(items: &[Item]) -> Vec<&Ident> {
    fn collect<'a>(items: &'a [Item], out: &mut Vec<&'a Ident>) {
        for item in items {
            match item {
                Item::Var(v) => out.push(&v.field),
                Item::Model(m) => out.push(&m.field),
                Item::Scope(s) => collect(&s.items, out),
            }
        }
    }
    let mut out = Vec::new();
    collect(items, &mut out);
    out
}

/// An anonymous sub-scope (`model!` only): `input_layer { .. }`.
pub(crate) struct SubScope {
    pub(crate) ident: Ident,
    /// `#[scope(name = "..")]`: the TF scope name, when it is not the identifier (`self`).
    pub(crate) name: Option<LitStr>,
    /// `#[scope(custom_getter = .., regularizer = ..)]`.
    pub(crate) defaults: ScopeDefaults,
    pub(crate) items: Vec<Item>,
}

impl SubScope {
    /// The scope's TF name and the span of the tokens that set it.
    pub(crate) fn scope_name(&self) -> (String, Span) {
        match &self.name {
            Some(lit) => (lit.value(), lit.span()),
            None => (unraw(&self.ident), self.ident.span()),
        }
    }
}

/// `[d0, d1, ..]`: each dimension an expression of type `usize`.
pub(crate) struct ShapeDecl {
    pub(crate) dims: Vec<TokenStream>,
    /// The span of the brackets (or of the `shape` key).
    pub(crate) span: Span,
}

/// An initializer as written: `random_normal(0.0, 0.5)`, `zeros`, `value(..)`.
pub(crate) struct InitDecl {
    pub(crate) kind: InitKind,
    pub(crate) ident: Ident,
    /// The arguments, as written (numbers already checked).
    pub(crate) args: Vec<TokenStream>,
}

/// A named kind's name, parameters and variant, as the `ALL` tables list them.
type KindEntry<K> = (&'static str, &'static [&'static str], K);

/// The kind named `name` in `all`.
fn kind_named<K: Copy>(all: &[KindEntry<K>], name: &str) -> Option<K> {
    all.iter().find(|(n, _, _)| *n == name).map(|(_, _, k)| *k)
}

/// The entry of `kind` in `all`.
fn kind_entry<K: Copy + PartialEq>(all: &[KindEntry<K>], kind: K) -> KindEntry<K> {
    *all.iter()
        .find(|(_, _, k)| *k == kind)
        .expect("every kind is listed")
}

/// The initializers `#[var(init = ..)]` and `model!` accept, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InitKind {
    Zeros,
    Ones,
    GlorotUniform,
    Constant,
    RandomNormal,
    TruncatedNormal,
    RandomUniform,
    Value,
}

impl InitKind {
    /// Every initializer: its name, its parameters, and its variant.
    pub(crate) const ALL: [(&'static str, &'static [&'static str], InitKind); 8] = [
        ("zeros", &[], InitKind::Zeros),
        ("ones", &[], InitKind::Ones),
        ("glorot_uniform", &[], InitKind::GlorotUniform),
        ("constant", &["value"], InitKind::Constant),
        ("random_normal", &["mean", "stddev"], InitKind::RandomNormal),
        (
            "truncated_normal",
            &["mean", "stddev"],
            InitKind::TruncatedNormal,
        ),
        (
            "random_uniform",
            &["minval", "maxval"],
            InitKind::RandomUniform,
        ),
        ("value", &["tensor"], InitKind::Value),
    ];

    pub(crate) fn from_name(name: &str) -> Option<InitKind> {
        kind_named(&Self::ALL, name)
    }

    pub(crate) fn name(self) -> &'static str {
        Self::entry(self).0
    }

    pub(crate) fn params(self) -> &'static [&'static str] {
        Self::entry(self).1
    }

    fn entry(self) -> KindEntry<InitKind> {
        kind_entry(&Self::ALL, self)
    }

    /// `zeros, ones, .., value(tensor)`, for error messages.
    pub(crate) fn list() -> String {
        Self::ALL
            .iter()
            .map(|(name, params, _)| {
                if params.is_empty() {
                    (*name).to_owned()
                } else {
                    format!("{name}({})", params.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `partitioner = ..`: one of TF's partitioners by name, or an expression of type
/// `Partitioner`.
pub(crate) struct PartitionerDecl {
    pub(crate) key: Ident,
    /// The value as written (for the manifest and docs).
    pub(crate) tokens: TokenStream,
    /// `Some` for a partitioner named as TF names it (`fixed_size(4, 0)`), `None` for an
    /// expression of type `Partitioner`.
    pub(crate) known: Option<(PartitionerKind, Ident, Vec<TokenStream>)>,
}

impl PartitionerDecl {
    /// The split axis, when it is a literal (or the default `0`).
    pub(crate) fn literal_axis(&self) -> Option<(usize, Span)> {
        let (_, ident, args) = self.known.as_ref()?;
        match args.get(1) {
            None => Some((0, ident.span())),
            Some(arg) => match Number::of(arg)? {
                (Number::Int(digits), span) => Some((digits.parse().ok()?, span)),
                _ => None,
            },
        }
    }
}

/// TF's partitioners, by the names `#[var(partitioner = ..)]` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PartitionerKind {
    /// `tf.fixed_size_partitioner(num_shards, axis=0)`.
    FixedSize,
    /// `tf.variable_axis_size_partitioner(max_shard_bytes, axis=0, max_shards=None)`.
    VariableAxisSize,
    /// `tf.min_max_variable_partitioner(max_partitions, axis=0, min_slice_size=256 << 10)`.
    MinMax,
}

impl PartitionerKind {
    /// Every partitioner: its name, its parameters (the first is required, the others
    /// default as in TF), and its variant.
    pub(crate) const ALL: [(&'static str, &'static [&'static str], PartitionerKind); 3] = [
        (
            "fixed_size",
            &["num_shards", "axis"],
            PartitionerKind::FixedSize,
        ),
        (
            "variable_axis_size",
            &["max_shard_bytes", "axis", "max_shards"],
            PartitionerKind::VariableAxisSize,
        ),
        (
            "min_max",
            &["max_partitions", "axis", "min_slice_size"],
            PartitionerKind::MinMax,
        ),
    ];

    pub(crate) fn from_name(name: &str) -> Option<PartitionerKind> {
        kind_named(&Self::ALL, name)
    }

    pub(crate) fn name(self) -> &'static str {
        Self::entry(self).0
    }

    pub(crate) fn params(self) -> &'static [&'static str] {
        Self::entry(self).1
    }

    fn entry(self) -> KindEntry<PartitionerKind> {
        kind_entry(&Self::ALL, self)
    }

    /// `fixed_size(num_shards, axis = 0)`: how it is called, defaults included.
    pub(crate) fn usage(self) -> String {
        let params: Vec<String> = self
            .params()
            .iter()
            .enumerate()
            .map(|(i, p)| match (i, *p) {
                (0, p) => p.to_owned(),
                (_, "axis") => "axis = 0".to_owned(),
                (_, "max_shards") => "max_shards = None".to_owned(),
                (_, p) => format!("{p} = 262144"),
            })
            .collect();
        format!("{}({})", self.name(), params.join(", "))
    }

    /// `fixed_size(num_shards, axis = 0), ..`, for error messages.
    pub(crate) fn list() -> String {
        Self::ALL
            .iter()
            .map(|(_, _, kind)| kind.usage())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A dtype as written (`f32` or TF's `float32`) and the runtime variant it names.
pub(crate) struct DTypeDecl {
    pub(crate) ident: Ident,
    pub(crate) variant: &'static str,
}

impl DTypeDecl {
    /// Accepted spellings and the `DType` variant each names.
    pub(crate) const ALL: [(&'static str, &'static str, &'static str); 6] = [
        ("f16", "float16", "F16"),
        ("f32", "float32", "F32"),
        ("f64", "float64", "F64"),
        ("i32", "int32", "I32"),
        ("i64", "int64", "I64"),
        ("bool", "bool", "Bool"),
    ];

    pub(crate) fn variant_of(name: &str) -> Option<&'static str> {
        Self::ALL
            .iter()
            .find(|(rust, tf, _)| *rust == name || *tf == name)
            .map(|(_, _, v)| *v)
    }

    /// `f16, f32, ..`, for error messages.
    pub(crate) fn list() -> String {
        Self::ALL
            .iter()
            .map(|(rust, _, _)| *rust)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A literal argument of an initializer, read through a leading `-` and the invisible group
/// of a `macro_rules!` fragment, with its type suffix dropped: `1f64` is the float `1.0`
/// (rustc lexes it as an integer with a float suffix), `0.5f32` the float `0.5`, `3u8` the
/// integer `3`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Number {
    Float(String),
    Int(String),
    Bool(bool),
}

impl Number {
    /// The literal `arg` is, if it is a number or a bool, and its span.
    pub(crate) fn of(arg: &TokenStream) -> Option<(Number, Span)> {
        use proc_macro2::TokenTree;
        let tokens: Vec<TokenTree> = crate::parse::look_through(arg).into_iter().collect();
        let (neg, rest) = match tokens.split_first() {
            Some((TokenTree::Punct(p), rest)) if p.as_char() == '-' => (true, rest),
            _ => (false, &tokens[..]),
        };
        let lit: syn::Lit = syn::parse2(rest.iter().cloned().collect()).ok()?;
        let sign = if neg { "-" } else { "" };
        let number = match &lit {
            syn::Lit::Int(i) if matches!(i.suffix(), "f32" | "f64") => {
                Number::Float(format!("{sign}{}.0", i.base10_digits()))
            }
            syn::Lit::Int(i) => Number::Int(format!("{sign}{}", i.base10_digits())),
            syn::Lit::Float(f) => {
                let digits = f.base10_digits();
                let point = if digits.contains(['.', 'e', 'E']) {
                    ""
                } else {
                    ".0"
                };
                Number::Float(format!("{sign}{digits}{point}"))
            }
            syn::Lit::Bool(b) if !neg => Number::Bool(b.value),
            _ => return None,
        };
        Some((number, lit.span()))
    }

    /// The number as an unsuffixed `f64` literal (an integer is written as a float).
    pub(crate) fn float_tokens(&self, span: Span) -> Option<TokenStream> {
        let text = match self {
            Number::Float(text) => text.clone(),
            Number::Int(text) => format!("{text}.0"),
            Number::Bool(_) => return None,
        };
        Some(number_tokens(&text, span))
    }

    /// The number as an unsuffixed literal of its own kind.
    pub(crate) fn tokens(&self, span: Span) -> TokenStream {
        match self {
            Number::Float(text) | Number::Int(text) => number_tokens(text, span),
            Number::Bool(b) => syn::LitBool::new(*b, span).into_token_stream(),
        }
    }
}

fn number_tokens(text: &str, span: Span) -> TokenStream {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(digits) => (Some(quote::quote_spanned!(span=> -)), digits),
        None => (None, text),
    };
    let mut lit: proc_macro2::Literal = digits.parse().expect("digits of a literal re-parse");
    lit.set_span(span);
    quote::quote!(#sign #lit)
}

/// An identifier's text without `r#`.
pub(crate) fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    match s.strip_prefix("r#") {
        Some(rest) => rest.to_owned(),
        None => s,
    }
}

/// Tokens as source-like text for manifests and docs: `in_size + units`, `cfg.units`,
/// `random_normal(0.0, 0.5)`.
pub(crate) fn tokens_text(tokens: &TokenStream) -> String {
    use proc_macro2::{Delimiter, Spacing, TokenTree};
    let mut out = String::new();
    // Whether the previous token ends an operand (so `-` after it is binary).
    let mut after_operand = false;
    let mut joint = false;
    for tt in tokens.clone() {
        let glued = joint;
        joint = false;
        match tt {
            TokenTree::Punct(p) => {
                let c = p.as_char();
                let unary = !after_operand && matches!(c, '-' | '*' | '&' | '!');
                if c == ',' || c == ';' {
                    out.push(c);
                    out.push(' ');
                } else if glued || unary || matches!(c, '.' | ':') {
                    // `a.b`, `a::b`, `-x`, `&x`, the second char of `..=`
                    out.push(c);
                } else {
                    if !out.is_empty() && !out.ends_with(' ') {
                        out.push(' ');
                    }
                    out.push(c);
                }
                joint = p.spacing() == Spacing::Joint;
                if !joint && !unary && !matches!(c, '.' | ':' | ',' | ';') {
                    out.push(' ');
                }
                after_operand = false;
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                out.push_str(&tokens_text(&g.stream()));
                out.push_str(close);
                after_operand = true;
            }
            other => {
                if after_operand {
                    out.push(' ');
                }
                out.push_str(&other.to_string());
                after_operand = true;
            }
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn prints_tokens_like_source() {
        assert_eq!(tokens_text(&quote!(in_size + units)), "in_size + units");
        assert_eq!(tokens_text(&quote!(4 * cfg.units)), "4 * cfg.units");
        assert_eq!(tokens_text(&quote!(f(a, b)[0])), "f(a, b)[0]");
        assert_eq!(tokens_text(&quote!(-0.5)), "-0.5");
        assert_eq!(tokens_text(&quote!(a::b(&x))), "a::b(&x)");
        assert_eq!(tokens_text(&quote!(a - -1)), "a - -1");
        assert_eq!(tokens_text(&quote!(a as usize)), "a as usize");
    }

    #[test]
    fn reads_number_literals_without_their_suffixes() {
        let of = |t: TokenStream| Number::of(&t).map(|(n, _)| n);
        assert_eq!(of(quote!(1f64)), Some(Number::Float("1.0".into())));
        assert_eq!(of(quote!(-0.5f32)), Some(Number::Float("-0.5".into())));
        assert_eq!(of(quote!(1e3)), Some(Number::Float("1e3".into())));
        assert_eq!(of(quote!(3u8)), Some(Number::Int("3".into())));
        assert_eq!(of(quote!(true)), Some(Number::Bool(true)));
        assert_eq!(of(quote!(-true)), None);
        assert_eq!(of(quote!(C)), None);
        let float = Number::Int("-2".into())
            .float_tokens(Span::call_site())
            .unwrap();
        assert_eq!(float.to_string(), "- 2.0");
    }

    #[test]
    fn reads_repeat_patterns() {
        let h = RepeatPattern::parse("h{i}").unwrap();
        assert_eq!(
            (h.name(0), h.name(11), h.text()),
            ("h0".into(), "h11".into(), "h{i}".into())
        );
        let cell = RepeatPattern::parse("cell").unwrap();
        assert_eq!(cell.text(), "cell_{i}");
        assert_eq!(RepeatPattern::parse("a{i}b").unwrap().name(3), "a3b");
        for bad in ["h{i}{i}", "h{}", "h{n}", "h{", "h}{i}", "{{i}}"] {
            assert!(RepeatPattern::parse(bad).is_err(), "{bad}");
        }
        assert!(h.matches("H12") && h.matches("h0"));
        assert!(!h.matches("h01") && !h.matches("h") && !h.matches("h1x"));
        let h1 = RepeatPattern::parse("h1{i}").unwrap();
        assert_eq!(h.overlap(&h1).as_deref(), Some("h10"));
        assert_eq!(h1.overlap(&h).as_deref(), Some("h10"));
        let layer = RepeatPattern::prefix("layer");
        assert_eq!(
            layer.overlap(&RepeatPattern::parse("layer{i}").unwrap()),
            None
        );
        assert_eq!(h.overlap(&RepeatPattern::parse("h{i}_x").unwrap()), None);
        assert!(h.overlap(&h).is_some());
    }

    #[test]
    fn lists_initializers_with_parameters() {
        assert!(InitKind::list().contains("random_normal(mean, stddev)"));
        assert_eq!(InitKind::from_name("zeros"), Some(InitKind::Zeros));
        assert_eq!(InitKind::RandomUniform.params(), ["minval", "maxval"]);
    }
}
