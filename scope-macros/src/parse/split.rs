//! The one comma splitter of both macros: attribute lists, shapes, initializer and model
//! arguments, and `model!` items are all cut at the commas [`Splitter`] calls top-level.
//!
//! A comma is a separator whatever its spacing (rustc marks `,` before punctuation, as in
//! `(-1.0,-0.5)`, as `Joint`), unless it sits inside generic arguments (`Array::<f32,
//! IxDyn>::zeros`, `Cell<A, B>`). Groups, including the invisible ones `macro_rules!`
//! fragments arrive in, are single tokens: their commas are never top-level.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// Where a `<` opens generic arguments rather than comparing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Angles {
    /// In an expression: after `::` (`Vec::<u8>`), or where an operand starts (`<T as
    /// Tr>::X`); `a < b` compares.
    Expr,
    /// In a type, as in a `model!` item (`model Cell<A, B>(..)`): also after an identifier.
    Type,
}

/// What the previous token was, as far as `<` and `>` care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Nothing yet: an operand starts here.
    Start,
    /// An identifier.
    Ident,
    /// A literal or a group: an operand ended.
    Operand,
    /// A punctuation character and whether it is glued to the next one.
    Punct(char, Spacing),
}

/// Tracks angle-bracket nesting over a flat token sequence to tell the top-level commas.
pub(crate) struct Splitter {
    angles: Angles,
    depth: usize,
    prev: Prev,
    /// Whether the token before `prev` was a `:` glued to it (so `prev` ends a `::`).
    path_sep: bool,
}

impl Splitter {
    pub(crate) fn new(angles: Angles) -> Splitter {
        Splitter {
            angles,
            depth: 0,
            prev: Prev::Start,
            path_sep: false,
        }
    }

    /// Feeds the next token; whether it is a top-level comma (a separator).
    pub(crate) fn is_separator(&mut self, tt: &TokenTree) -> bool {
        let after_path_sep = self.path_sep;
        let next = match tt {
            TokenTree::Punct(p) => {
                let c = p.as_char();
                if c == ',' && self.depth == 0 {
                    self.prev = Prev::Start;
                    self.path_sep = false;
                    return true;
                }
                if c == '<' && self.opens(after_path_sep) {
                    self.depth += 1;
                } else if c == '>' && self.depth > 0 && !self.glued_to(&['-', '=']) {
                    self.depth -= 1;
                }
                self.path_sep = c == ':' && self.prev == Prev::Punct(':', Spacing::Joint);
                Prev::Punct(c, p.spacing())
            }
            TokenTree::Ident(_) => {
                self.path_sep = false;
                Prev::Ident
            }
            TokenTree::Literal(_) | TokenTree::Group(_) => {
                self.path_sep = false;
                Prev::Operand
            }
        };
        self.prev = next;
        false
    }

    fn glued_to(&self, chars: &[char]) -> bool {
        matches!(self.prev, Prev::Punct(c, Spacing::Joint) if chars.contains(&c))
    }

    fn opens(&self, after_path_sep: bool) -> bool {
        if after_path_sep {
            return true;
        }
        match self.prev {
            Prev::Start => true,
            Prev::Ident => self.angles == Angles::Type || self.depth > 0,
            Prev::Operand => false,
            // `<` after an operator starts an operand (`x == <T>::X`), but `<<` shifts.
            Prev::Punct(c, _) => matches!(c, '=' | '+' | '*' | '/' | '%' | '!' | '&' | '|' | '^'),
        }
    }
}

/// Splits `tokens` at top-level commas (expression rules), dropping empty chunks (a trailing
/// comma).
pub(crate) fn split_commas(tokens: TokenStream) -> Vec<TokenStream> {
    let mut splitter = Splitter::new(Angles::Expr);
    let mut chunks = Vec::new();
    let mut current = TokenStream::new();
    for tt in tokens {
        if splitter.is_separator(&tt) {
            chunks.push(std::mem::take(&mut current));
        } else {
            current.extend([tt]);
        }
    }
    chunks.push(current);
    chunks.retain(|c| !c.is_empty());
    chunks
}

/// `tokens` without the invisible groups a `macro_rules!` fragment (`$e:expr`, `$t:ty`)
/// wraps the whole of them in.
pub(crate) fn look_through(tokens: &TokenStream) -> TokenStream {
    let mut iter = tokens.clone().into_iter();
    match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::None => {
            look_through(&g.stream())
        }
        _ => tokens.clone(),
    }
}

/// `tokens` with every top-level invisible group replaced by what it holds (a `model!`
/// item's `$shape = $init`); groups inside others are kept.
pub(crate) fn flatten_invisible(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tt| match tt {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                flatten_invisible(g.stream())
                    .into_iter()
                    .collect::<Vec<_>>()
            }
            other => vec![other],
        })
        .collect()
}

/// Tokens of a `ParseStream` up to the next top-level `,` (not consumed), by the macros' one
/// [`Splitter`].
pub(crate) fn take_until_comma(input: syn::parse::ParseStream<'_>, angles: Angles) -> TokenStream {
    input
        .step(|cursor| {
            let mut splitter = Splitter::new(angles);
            let mut rest = *cursor;
            let mut out = TokenStream::new();
            while let Some((tt, next)) = rest.token_tree() {
                if splitter.is_separator(&tt) {
                    break;
                }
                out.extend([tt]);
                rest = next;
            }
            Ok((out, rest))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::{Group, Span};
    use quote::quote;

    fn split(tokens: TokenStream) -> Vec<String> {
        split_commas(tokens)
            .iter()
            .map(|c| c.to_string().replace(' ', ""))
            .collect()
    }

    #[test]
    fn commas_before_punctuation_split() {
        // rustc marks these commas `Joint`.
        assert_eq!(split(quote!(-1.0, -0.5)), ["-1.0", "-0.5"]);
        assert_eq!(split(quote!(n, -1)), ["n", "-1"]);
        assert_eq!(split(quote!(a, &b,)), ["a", "&b"]);
    }

    #[test]
    fn generic_arguments_stay_whole() {
        assert_eq!(
            split(quote!(ndarray::Array::<f32, IxDyn>::zeros(s), x)),
            ["ndarray::Array::<f32,IxDyn>::zeros(s)", "x"]
        );
        assert_eq!(
            split(quote!(<Vec<u8, A> as T>::X, y)),
            ["<Vec<u8,A>asT>::X", "y"]
        );
        assert_eq!(
            split(quote!(f::<fn(u8) -> u8, B>(), y)),
            ["f::<fn(u8)->u8,B>()", "y"]
        );
        assert_eq!(split(quote!(x == <T>::X, y)), ["x==<T>::X", "y"]);
    }

    #[test]
    fn comparisons_and_shifts_are_not_brackets() {
        assert_eq!(split(quote!(a < b, c > d)), ["a<b", "c>d"]);
        assert_eq!(split(quote!(1 << 3, 4)), ["1<<3", "4"]);
        assert_eq!(split(quote!(a <= b, c)), ["a<=b", "c"]);
    }

    #[test]
    fn types_open_after_identifiers() {
        let mut s = Splitter::new(Angles::Type);
        let commas = quote!(Cell < A, B > (x, y), z)
            .into_iter()
            .filter(|tt| s.is_separator(tt))
            .count();
        assert_eq!(commas, 1);
    }

    #[test]
    fn invisible_groups_are_atoms_and_can_be_looked_through() {
        let inner = Group::new(Delimiter::None, quote!([k, 2]));
        let mut tokens = TokenStream::new();
        tokens.extend([TokenTree::Group(inner.clone())]);
        assert_eq!(split_commas(tokens.clone()).len(), 1);
        assert_eq!(look_through(&tokens).to_string(), "[k , 2]");
        let mut g = Group::new(Delimiter::None, tokens);
        g.set_span(Span::call_site());
        let twice: TokenStream = TokenTree::Group(g).into();
        assert_eq!(look_through(&twice).to_string(), "[k , 2]");
    }
}
